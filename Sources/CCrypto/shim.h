/* OpenSSL's libcrypto (Debian libssl-dev): SHA-256 of evidence files and of the evidence
 * log's hash chain, through the EVP interface that OpenSSL 3 keeps current. */
#include <openssl/evp.h>
