/*
 * standin_steal.c - the stand-in's model of what a NIC's TCP filter does to the kernel: the NIC
 * delivers a filtered TCP flow to the VI only, so the kernel never sees its segments (and never
 * answers them with a RST). The stand-in reads the interface through an AF_PACKET socket, which
 * gets a copy of every frame while the kernel still gets its own; so while a TCP filter is
 * installed, the stand-in also drops that flow's frames for the kernel with an nftables rule at
 * the interface's netdev ingress hook. Packet taps see a frame before that hook, so the VI still
 * gets it. One table per VI ("bypass_standin_<pid>_<n>", netdev family, a chain on the interface
 * and two sets: connections by 4-tuple, listeners by local address and port), made with the
 * first TCP filter and deleted with the last, and at ef_vi_free.
 *
 * libnftables (nft's own library) is dlopen'ed, so the stand-in links nothing new; the commands
 * run in the network namespace the VI was allocated in (setns around them when the calling thread
 * is elsewhere, which needs CAP_SYS_ADMIN). UDP filters steal nothing (the kernel keeps a copy).
 */
#include "standin.h"

#include <dlfcn.h>
#include <sched.h>
#include <sys/stat.h>

struct nft_ctx;
static struct {
  struct nft_ctx* (*ctx_new)(uint32_t flags);
  void (*ctx_free)(struct nft_ctx* ctx);
  int (*buffer_error)(struct nft_ctx* ctx);
  int (*buffer_output)(struct nft_ctx* ctx);
  const char* (*error_buffer)(struct nft_ctx* ctx);
  int (*run)(struct nft_ctx* ctx, const char* buf);
} nft;
static pthread_once_t nft_once = PTHREAD_ONCE_INIT;
static int nft_loaded;
static unsigned table_seq;

static void nft_load(void) {
  void* h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) return;
  *(void**) &nft.ctx_new = dlsym(h, "nft_ctx_new");
  *(void**) &nft.ctx_free = dlsym(h, "nft_ctx_free");
  *(void**) &nft.buffer_error = dlsym(h, "nft_ctx_buffer_error");
  *(void**) &nft.buffer_output = dlsym(h, "nft_ctx_buffer_output");
  *(void**) &nft.error_buffer = dlsym(h, "nft_ctx_get_error_buffer");
  *(void**) &nft.run = dlsym(h, "nft_run_cmd_from_buffer");
  nft_loaded = nft.ctx_new && nft.ctx_free && nft.buffer_error && nft.buffer_output && nft.error_buffer && nft.run;
}

int standin_steal_init(struct standin_vi* s, const char* ifname) {
  snprintf(s->steal_if, sizeof(s->steal_if), "%s", ifname);
  snprintf(s->steal_table, sizeof(s->steal_table), "bypass_standin_%d_%u", (int) getpid(),
           __atomic_add_fetch(&table_seq, 1, __ATOMIC_SEQ_CST));
  s->steal_rules = 0;
  s->steal_made = 0;
  s->ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  return s->ns_fd < 0 ? -errno : 0;
}

static ino_t ns_inode(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* Runs nft commands in the VI's namespace: 0, or a negative errno with nft's message on stderr. */
static int run(struct standin_vi* s, const char* cmd) {
  pthread_once(&nft_once, nft_load);
  if (!nft_loaded) {
    fprintf(stderr, "bypass-ciul-standin: libnftables.so.1 not found: the stand-in cannot keep a TCP flow from the kernel"
            " (install nftables)\n");
    return -ENOSYS;
  }
  int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (here < 0) return -errno;
  int moved = ns_inode(here) != ns_inode(s->ns_fd);
  if (moved && setns(s->ns_fd, CLONE_NEWNET) != 0) {
    int e = errno;
    close(here);
    return -e;
  }
  int rc = -EIO;
  struct nft_ctx* ctx = nft.ctx_new(0);
  if (ctx != NULL) {
    nft.buffer_error(ctx);
    nft.buffer_output(ctx);
    if (nft.run(ctx, cmd) == 0) {
      rc = 0;
    } else {
      fprintf(stderr, "bypass-ciul-standin: nft failed: %s(commands: %s)\n", nft.error_buffer(ctx), cmd);
    }
    nft.ctx_free(ctx);
  }
  if (moved && setns(here, CLONE_NEWNET) != 0) {
    fprintf(stderr, "bypass-ciul-standin: cannot return to the thread's network namespace: %s\n", strerror(errno));
    abort();  /* the thread would go on in the wrong namespace */
  }
  close(here);
  return rc;
}

static void ip4(char* out, size_t n, uint32_t be) {
  uint32_t a = ntohl(be);
  snprintf(out, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/* The set element of a TCP filter: "{ local . lport . remote . rport }" or, for a listener, "{ local . lport }". */
static const char* element(const struct filter* f, char* out, size_t n) {
  char local[16], remote[16];
  ip4(local, sizeof(local), f->addr_be);
  if (f->type == FILTER_IP4_FULL) {
    ip4(remote, sizeof(remote), f->raddr_be);
    snprintf(out, n, "conn { %s . %u . %s . %u }", local, ntohs(f->port_be), remote, ntohs(f->rport_be));
  } else {
    snprintf(out, n, "lsn { %s . %u }", local, ntohs(f->port_be));
  }
  return out;
}

int standin_steal_add(struct standin_vi* s, const struct filter* f) {
  char el[128], cmd[1024];
  int rc;
  if (!s->steal_made) {
    snprintf(cmd, sizeof(cmd),
             "add table netdev %1$s\n"
             "add chain netdev %1$s in { type filter hook ingress device \"%2$s\" priority -500; policy accept; }\n"
             "add set netdev %1$s conn { type ipv4_addr . inet_service . ipv4_addr . inet_service; }\n"
             "add set netdev %1$s lsn { type ipv4_addr . inet_service; }\n"
             "add rule netdev %1$s in ip daddr . tcp dport . ip saddr . tcp sport @conn counter drop\n"
             "add rule netdev %1$s in ip daddr . tcp dport @lsn counter drop\n",
             s->steal_table, s->steal_if);
    rc = run(s, cmd);
    if (rc < 0) {
      snprintf(cmd, sizeof(cmd), "delete table netdev %s\n", s->steal_table);
      (void) run(s, cmd);  /* nft applies a batch whole or not at all; this is only in case */
      return rc;
    }
    s->steal_made = 1;
  }
  snprintf(cmd, sizeof(cmd), "add element netdev %s %s\n", s->steal_table, element(f, el, sizeof(el)));
  rc = run(s, cmd);
  if (rc == 0) {
    s->steal_rules++;
  } else if (s->steal_rules == 0) {
    standin_steal_fini(s, 0);
  }
  return rc;
}

int standin_steal_del(struct standin_vi* s, const struct filter* f) {
  char el[128], cmd[1024];
  if (!s->steal_made) return 0;
  s->steal_rules--;
  if (s->steal_rules <= 0) return standin_steal_fini(s, 0);
  snprintf(cmd, sizeof(cmd), "delete element netdev %s %s\n", s->steal_table, element(f, el, sizeof(el)));
  return run(s, cmd);
}

int standin_steal_fini(struct standin_vi* s, int close_ns) {
  int rc = 0;
  if (s->steal_made) {
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "delete table netdev %s\n", s->steal_table);
    rc = run(s, cmd);
    s->steal_made = 0;
    s->steal_rules = 0;
  }
  if (close_ns && s->ns_fd >= 0) {
    close(s->ns_fd);
    s->ns_fd = -1;
  }
  return rc;
}
