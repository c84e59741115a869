/* LD_PRELOAD shim for wrk: every IPv4 connection it opens leaves from 127.0.K.1, K = 1..BENCH_SOURCE_NETWORKS in
 * turn, so one load generator looks like clients of that many /24 networks (what ip_hash buckets by).
 * wrk has no option to choose its source address; on Linux all of 127.0.0.0/8 is local, so any of it binds.
 * bench/wrk.py compiles it with the system's cc when a run asks for several networks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static unsigned next_network;

int connect(int fd, const struct sockaddr *address, socklen_t length) {
    if (real_connect == NULL) {
        real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    }
    const char *networks = getenv("BENCH_SOURCE_NETWORKS");
    int count = networks != NULL ? atoi(networks) : 0;
    if (count > 0 && count < 255 && address->sa_family == AF_INET) {
        struct sockaddr_in source = {.sin_family = AF_INET};
        source.sin_addr.s_addr = htonl((127u << 24) | ((1 + next_network++ % (unsigned)count) << 8) | 1u);
        bind(fd, (const struct sockaddr *)&source, sizeof source); /* if it fails, connect as usual */
    }
    return real_connect(fd, address, length);
}
