/*
 * Kernel TCP baseline for the tcp-pingpong and tcp-bulk scenarios: the same modes, arguments
 * and output as the Java TCP worker (io.bypass.bench.net.TcpWorker).
 *   bench_tcp mode=echo bind_ip=A port=P              accept one connection, send every byte back
 *   bench_tcp mode=ping dst_ip=A dport=P payload=64 count=N warmup_ms=W duration_ms=D samples=FILE
 *                                                     one message in flight, round trip per message
 *   bench_tcp mode=sink bind_ip=A port=P              accept one connection, read to EOF, check every byte
 *   bench_tcp mode=bulk dst_ip=A dport=P bytes=N      send N bytes of the pattern, half-close, wait for EOF
 * TCP_NODELAY on; after the connection opens the socket is non-blocking and every wait is a spin on
 * recv/send (busy polling, as the Bypass side polls); SO_BUSY_POLL (50 us) is asked for and the result
 * says whether the kernel allowed it. The stream is a pattern (bench_pattern_*) both sides generate;
 * the receiver compares every byte with it and sums a CRC32C; the sender sums the CRC32C of what it sent.
 */
#include "bench_common.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define PATTERN_PERIOD 65521 /* prime, so a misplaced segment never lines up with the pattern */
#define CHUNK 65536
#define MSG_MAX 4096

static uint8_t pattern[PATTERN_PERIOD + CHUNK];
static uint32_t crc_table[256];
static int busy_poll_ok;

/* xorshift32 from a fixed seed: the Java worker builds the same table (TcpStreamCheck). */
static void pattern_init(void) {
    uint32_t x = 0x9E3779B9u;
    for (int i = 0; i < PATTERN_PERIOD + CHUNK; i++) {
        if (i < PATTERN_PERIOD) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            pattern[i] = (uint8_t) x;
        } else {
            pattern[i] = pattern[i - PATTERN_PERIOD];
        }
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        }
        crc_table[i] = c;
    }
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        crc = (uint32_t) __builtin_ia32_crc32di(crc, v);
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        crc = __builtin_ia32_crc32qi(crc, *p++);
    }
    return crc;
}
#endif

/* CRC32C (Castagnoli), running value without the final xor; java.util.zip.CRC32C gives crc ^ ~0 of the same. */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        return crc32c_hw(crc, p, n);
    }
#endif
    while (n-- > 0) {
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

static void tune(int fd) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
        fprintf(stderr, "TCP_NODELAY: %s\n", strerror(errno));
        exit(1);
    }
    int usecs = 50;
    busy_poll_ok = setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) == 0;
    if (!busy_poll_ok) {
        fprintf(stderr, "SO_BUSY_POLL not allowed (%s); spinning on non-blocking recv anyway\n", strerror(errno));
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        fprintf(stderr, "O_NONBLOCK: %s\n", strerror(errno));
        exit(1);
    }
}

static struct sockaddr_in address(const char *ip_key, const char *port_key) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t) arg_long(port_key, 0));
    if (inet_pton(AF_INET, arg_str(ip_key, NULL), &a.sin_addr) != 1) {
        fprintf(stderr, "bad %s\n", ip_key);
        exit(2);
    }
    return a;
}

static int accept_one(void) {
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = address("bind_ip", "port");
    if (bind(ls, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(ls, 1) != 0) {
        fprintf(stderr, "bind/listen %s:%lld: %s\n", arg_str("bind_ip", NULL), arg_long("port", 0), strerror(errno));
        exit(1);
    }
    ready();
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
        fprintf(stderr, "accept: %s\n", strerror(errno));
        exit(1);
    }
    close(ls);
    tune(fd);
    return fd;
}

static int connect_one(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = address("dst_ip", "dport");
    uint64_t deadline = now_ns() + 10000000000ull;
    /* the server may still be starting: retry refused connects for 10 s */
    while (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
        if (errno != ECONNREFUSED || now_ns() > deadline || stop_flag) {
            fprintf(stderr, "connect %s:%lld: %s\n", arg_str("dst_ip", NULL), arg_long("dport", 0), strerror(errno));
            exit(1);
        }
        close(fd);
        usleep(10000);
        fd = socket(AF_INET, SOCK_STREAM, 0);
    }
    tune(fd);
    return fd;
}

/* Spins until all n bytes are in the socket; 0 on success, -1 if the peer went away. */
static int send_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0 && !stop_flag) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t) w;
        } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return -1;
        }
    }
    return n == 0 ? 0 : -1;
}

static void run_echo(void) {
    int fd = accept_one();
    static uint8_t buf[CHUNK];
    uint64_t total = 0, start = now_ns();
    while (!stop_flag) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r > 0) {
            total += (uint64_t) r;
            if (send_all(fd, buf, (size_t) r) != 0) {
                break;
            }
        } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            break;
        }
    }
    close(fd);
    printf("RESULT {\"mode\":\"echo\",\"packets\":%" PRIu64 ",\"seconds\":%.6f,\"busy_poll\":%d}\n", total,
           (double) (now_ns() - start) / 1e9, busy_poll_ok);
    fflush(stdout);
}

static void run_ping(void) {
    int payload = (int) arg_long("payload", 64);
    if (payload < 16 || payload > MSG_MAX) {
        fprintf(stderr, "payload must be 16..%d\n", MSG_MAX);
        exit(2);
    }
    samples_init();
    int fd = connect_one();
    uint64_t warmup = (uint64_t) arg_long("warmup_ms", 1000) * 1000000ull;
    uint64_t duration = (uint64_t) arg_long("duration_ms", 3000) * 1000000ull;
    uint8_t msg[MSG_MAX], in[MSG_MAX];
    memset(msg, 0x5a, sizeof(msg));
    ready();
    uint64_t start = now_ns(), open = start + warmup, close_at = open + duration, seq = 0, slow = 0;
    while (!stop_flag && sample_count < sample_cap) {
        uint64_t t0 = now_ns();
        if (t0 >= close_at) {
            break;
        }
        seq++;
        memcpy(msg, &seq, 8);
        memcpy(msg + 8, &t0, 8);
        if (send_all(fd, msg, (size_t) payload) != 0) {
            fprintf(stderr, "send: %s\n", strerror(errno));
            exit(1);
        }
        int got = 0;
        while (got < payload && !stop_flag) {
            ssize_t r = recv(fd, in + got, (size_t) (payload - got), 0);
            if (r > 0) {
                got += (int) r;
            } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                fprintf(stderr, "recv: %s\n", r == 0 ? "peer closed" : strerror(errno));
                exit(1);
            }
        }
        uint64_t t1 = now_ns();
        uint64_t echoed;
        memcpy(&echoed, in, 8);
        if (got == payload && echoed != seq) {
            fprintf(stderr, "echo of %" PRIu64 " carried %" PRIu64 "\n", seq, echoed);
            exit(1);
        }
        if (t1 - t0 > PING_TIMEOUT_NS) {
            slow++; /* TCP does not lose: a retransmission shows as a long round trip, and is kept */
        }
        if (t0 >= open && got == payload) {
            samples[sample_count++] = t1 - t0;
        }
    }
    close(fd);
    samples_write();
    double secs = (double) (now_ns() - open) / 1e9;
    printf("RESULT {\"mode\":\"ping\",\"packets\":%ld,\"seconds\":%.6f,\"pps\":%.1f,\"slow\":%" PRIu64
           ",\"samples\":%ld,\"busy_poll\":%d}\n", sample_count, secs, secs > 0 ? sample_count / secs : 0.0, slow,
           sample_count, busy_poll_ok);
    fflush(stdout);
}

static void run_sink(void) {
    int fd = accept_one();
    static uint8_t buf[CHUNK];
    uint64_t total = 0, mismatches = 0, first = 0, last = 0;
    uint32_t crc = 0xFFFFFFFFu;
    while (!stop_flag) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r > 0) {
            last = now_ns();
            if (first == 0) {
                first = last;
            }
            size_t at = (size_t) (total % PATTERN_PERIOD);
            if (memcmp(buf, pattern + at, (size_t) r) != 0) {
                for (ssize_t i = 0; i < r; i++) {
                    mismatches += buf[i] != pattern[at + (size_t) i];
                }
            }
            crc = crc32c(crc, buf, (size_t) r);
            total += (uint64_t) r;
        } else if (r == 0) {
            break;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            fprintf(stderr, "recv: %s\n", strerror(errno));
            exit(1);
        }
    }
    close(fd);
    double secs = (double) (last - first) / 1e9;
    printf("RESULT {\"mode\":\"sink\",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"gbps\":%.3f,"
           "\"mismatches\":%" PRIu64 ",\"crc\":%u,\"eof\":%d,\"busy_poll\":%d}\n", total, total, secs,
           secs > 0 ? total * 8.0 / secs / 1e9 : 0.0, mismatches, crc ^ 0xFFFFFFFFu, stop_flag ? 0 : 1, busy_poll_ok);
    fflush(stdout);
}

static void run_bulk(void) {
    uint64_t bytes = (uint64_t) arg_long("bytes", 200000000);
    int fd = connect_one();
    ready();
    uint64_t sent = 0, start = now_ns();
    uint32_t crc = 0xFFFFFFFFu;
    while (sent < bytes && !stop_flag) {
        size_t at = (size_t) (sent % PATTERN_PERIOD);
        size_t n = bytes - sent < CHUNK ? (size_t) (bytes - sent) : CHUNK;
        ssize_t w = send(fd, pattern + at, n, MSG_NOSIGNAL);
        if (w > 0) {
            crc = crc32c(crc, pattern + at, (size_t) w);
            sent += (uint64_t) w;
        } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            fprintf(stderr, "send: %s\n", strerror(errno));
            exit(1);
        }
    }
    shutdown(fd, SHUT_WR);
    /* the sink closes once it has read everything: its EOF is the end of the transfer */
    uint8_t b[256];
    for (;;) {
        ssize_t r = recv(fd, b, sizeof(b), 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || stop_flag) {
            break;
        }
    }
    double secs = (double) (now_ns() - start) / 1e9;
    close(fd);
    printf("RESULT {\"mode\":\"bulk\",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"gbps\":%.3f,\"crc\":%u}\n",
           sent, sent, secs, secs > 0 ? sent * 8.0 / secs / 1e9 : 0.0, crc ^ 0xFFFFFFFFu);
    fflush(stdout);
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    /* no SA_RESTART: SIGTERM must end a blocking accept() too */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pattern_init();
    pin_cpu();
    const char *mode = arg_str("mode", NULL);
    if (strcmp(mode, "echo") == 0) {
        run_echo();
    } else if (strcmp(mode, "ping") == 0) {
        run_ping();
    } else if (strcmp(mode, "sink") == 0) {
        run_sink();
    } else if (strcmp(mode, "bulk") == 0) {
        run_bulk();
    } else {
        fprintf(stderr, "unknown mode %s (echo, ping, sink, bulk)\n", mode);
        return 2;
    }
    return 0;
}
