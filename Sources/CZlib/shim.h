/* zlib: logrotate compresses the daemon's older JSON logs, which `minewatch report` reads. */
#include <zlib.h>
