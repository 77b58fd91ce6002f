/* OpenSSL's libssl (Debian libssl-dev): the TLS client of `minewatch verify`, which speaks a
 * pool's login to a suspect endpoint that only accepts TLS. */
#include <openssl/ssl.h>
#include <openssl/err.h>
