/*
 * Kernel UDP sockets baseline with recvmmsg/sendmmsg: modes rx, tx, echo, ping, sink
 * (see bench_common.h). Also the traffic generator (tx) and the sink of every backend's
 * RX and TX scenarios, so all backends face the same peer.
 *   bench_udp mode=rx bind_ip=A port=P [cpu=N warmup_ms= duration_ms= idle_ms=]
 *   bench_udp mode=tx dst_ip=A dport=P [payload=32 batch=64 ...]
 *   bench_udp mode=echo bind_ip=A port=P
 *   bench_udp mode=ping dst_ip=A dport=P bind_ip=B port=Q count=N samples=FILE
 *   bench_udp mode=sink bind_ip=A port=P duration_ms=
 *   bench_udp mode=feed group=G port=P local_ip=A [idle_gap_ms=300 duration_ms=]   (joined to G on A's interface)
 */
#include "bench_common.h"
#include <netinet/in.h>
#include <sys/socket.h>

#define MAX_BATCH 256

static int udp_socket(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    return fd;
}

static struct sockaddr_in addr_of(const char *ip_key, const char *port_key) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t) arg_long(port_key, 9000));
    if (inet_pton(AF_INET, arg_str(ip_key, NULL), &a.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", arg_str(ip_key, NULL));
        exit(2);
    }
    return a;
}

static void bind_to(int fd) {
    struct sockaddr_in a = addr_of("bind_ip", "port");
    if (bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
        perror("bind");
        exit(1);
    }
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
    pin_cpu();
    const char *mode = arg_str("mode", NULL);
    const int payload = (int) arg_long("payload", 32);
    int batch = (int) arg_long("batch", 64);
    if (batch > MAX_BATCH) batch = MAX_BATCH;
    const uint64_t warmup = (uint64_t) arg_long("warmup_ms", 1000) * 1000000ull;
    const uint64_t duration = (uint64_t) arg_long("duration_ms", 3000) * 1000000ull;
    const uint64_t idle = (uint64_t) arg_long("idle_ms", 10000) * 1000000ull;
    static uint8_t bufs[MAX_BATCH][2048];
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov[MAX_BATCH];
    static struct sockaddr_in names[MAX_BATCH];
    for (int i = 0; i < MAX_BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = sizeof(bufs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int fd = udp_socket();

    if (strcmp(mode, "rx") == 0) {
        bind_to(fd);
        ready();
        rx_window w = {0};
        uint64_t start = now_ns();
        while (!stop_flag) {
            int n = recvmmsg(fd, msgs, (unsigned) batch, MSG_DONTWAIT, NULL);
            uint64_t now = now_ns();
            if (n > 0) {
                rx_window_add(&w, (uint64_t) n, now, warmup, duration);
            }
            if (w.first ? now >= w.close : now - start > idle) break;
        }
        result("rx", w.counted, w.first ? duration : 0, w.total, "total");
    } else if (strcmp(mode, "tx") == 0) {
        struct sockaddr_in dst = addr_of("dst_ip", "dport");
        if (connect(fd, (struct sockaddr *) &dst, sizeof(dst)) != 0) {
            perror("connect");
            exit(1);
        }
        for (int i = 0; i < batch; i++) iov[i].iov_len = (size_t) payload;
        ready();
        uint64_t start = now_ns(), open = start + warmup, close = open + duration, counted = 0, total = 0, seq = 0;
        while (!stop_flag) {
            for (int i = 0; i < batch; i++) memcpy(bufs[i], &seq, 8), seq++;
            int n = sendmmsg(fd, msgs, (unsigned) batch, 0);
            uint64_t now = now_ns();
            if (n > 0) {
                total += (uint64_t) n;
                if (now >= open && now < close) counted += (uint64_t) n;
            }
            if (now >= close) break;
        }
        result("tx", counted, duration, total, "total");
    } else if (strcmp(mode, "echo") == 0) {
        bind_to(fd);
        for (int i = 0; i < MAX_BATCH; i++) {
            msgs[i].msg_hdr.msg_name = &names[i];
        }
        ready();
        uint64_t start = now_ns(), total = 0;
        while (!stop_flag && now_ns() - start < warmup + duration + idle) {
            for (int i = 0; i < batch; i++) {
                msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
                iov[i].iov_len = sizeof(bufs[i]);
            }
            int n = recvmmsg(fd, msgs, (unsigned) batch, MSG_DONTWAIT, NULL);
            if (n <= 0) continue;
            for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
            int sent = 0;
            while (sent < n) {
                int s = sendmmsg(fd, msgs + sent, (unsigned) (n - sent), 0);
                if (s <= 0) break;
                sent += s;
            }
            total += (uint64_t) n;
        }
        result("echo", total, now_ns() - start, total, "total");
    } else if (strcmp(mode, "ping") == 0) {
        bind_to(fd);
        struct sockaddr_in dst = addr_of("dst_ip", "dport");
        if (connect(fd, (struct sockaddr *) &dst, sizeof(dst)) != 0) {
            perror("connect");
            exit(1);
        }
        samples_init();
        ready();
        uint8_t out[2048] = {0}, in[2048];
        uint64_t start = now_ns(), open = start + warmup, close = open + duration, lost = 0, seq = 0;
        while (!stop_flag && sample_count < sample_cap) {
            uint64_t t0 = now_ns();
            if (t0 >= close) break;
            seq++;
            memcpy(out, &seq, 8);
            memcpy(out + 8, &t0, 8);
            if (send(fd, out, (size_t) payload, 0) != payload) {
                perror("send");
                exit(1);
            }
            for (;;) {
                ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
                uint64_t t1 = now_ns();
                if (r >= 8 && memcmp(in, &seq, 8) == 0) {
                    if (t0 >= open) samples[sample_count++] = t1 - t0;
                    break;
                }
                if (t1 - t0 > PING_TIMEOUT_NS) {
                    lost++;
                    break;
                }
            }
        }
        samples_write();
        result("ping", (uint64_t) sample_count, now_ns() - open, lost, "lost");
    } else if (strcmp(mode, "sink") == 0) {
        bind_to(fd);
        ready();
        uint64_t start = now_ns();
        while (!stop_flag && now_ns() - start < duration) usleep(10000);
        result("sink", 0, now_ns() - start, 0, "total");
    } else if (strcmp(mode, "feed") == 0) {
        /* The kernel delivers the group's datagrams: bound to the group's port, joined on the local interface. */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in any;
        memset(&any, 0, sizeof(any));
        any.sin_family = AF_INET;
        any.sin_port = htons((uint16_t) arg_long("port", 30001));
        parse_ip4("group", (uint8_t *) &any.sin_addr);
        if (bind(fd, (struct sockaddr *) &any, sizeof(any)) != 0) {
            perror("bind");
            exit(1);
        }
        struct ip_mreq mreq;
        memcpy(&mreq.imr_multiaddr, &any.sin_addr, 4);
        parse_ip4("local_ip", (uint8_t *) &mreq.imr_interface);
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
            perror("IP_ADD_MEMBERSHIP");
            exit(1);
        }
        feed_loop l;
        feed_loop_init(&l);
        ready();
        uint64_t start = now_ns();
        while (!stop_flag && now_ns() - start < duration) {
            int n = recvmmsg(fd, msgs, (unsigned) batch, MSG_DONTWAIT, NULL);
            for (int i = 0; i < n; i++) feed_packet(&l.st, bufs[i], msgs[i].msg_len);
            feed_loop_polled(&l, n > 0 ? (uint64_t) n : 0, now_ns());
        }
        result("feed", l.trials, now_ns() - start, l.trials, "trials");
    } else {
        fprintf(stderr, "unknown mode %s (rx, tx, echo, ping, sink, feed)\n", mode);
        return 2;
    }
    close(fd);
    return 0;
}
