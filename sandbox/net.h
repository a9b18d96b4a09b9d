/* An outside route for a container's private network namespace, the way rootless podman gives
 * one: slirp4netns (a user-mode TCP/IP stack, Debian package slirp4netns) creates tap0 in the
 * namespace, configures it (10.0.2.100/24, gateway 10.0.2.2, DNS forwarder 10.0.2.3, MTU 65520)
 * and relays its traffic through ordinary sockets of the host. --disable-host-loopback refuses
 * 10.0.2.2 -> the host's 127.0.0.1, so the host's loopback services stay unreachable.
 *
 * slirp4netns is started through sandbox/proc.h (rn_proc_start) like every process: its ready
 * signal (--ready-fd) is its stdout pipe, its --exit-fd is its stdin (a pipe whose write end
 * only runnel holds, so it exits by itself if runnel dies), its stderr goes to a log file.
 *
 * Ownership: rn_slirp_start() returns a handle the caller releases with rn_slirp_stop(), which
 * stops the process and reaps it (nothing survives). Error strings are malloc'ed; caller frees.
 */
#ifndef RN_SANDBOX_NET_H
#define RN_SANDBOX_NET_H

#include <sys/types.h>

#define RN_SLIRP_DNS "10.0.2.3" /* slirp4netns's DNS forwarder, to the host's resolvers */

typedef struct rn_slirp rn_slirp;

/* The slirp4netns program: $RUNNEL_SLIRP4NETNS when set (a path; empty = disabled), else
 * `slirp4netns` searched in runnel's PATH (and /usr/bin, /usr/sbin, /bin). NULL when missing.
 * Caller frees. */
char *rn_slirp_find(void);

/* Starts slirp4netns for the network namespace of `pid` (it joins pid's user namespace too) and
 * waits until tap0 is configured (at most ten seconds). log_path receives its stderr. NULL with
 * *err set ("slirp4netns not found (install the Debian package slirp4netns)", or its exit
 * status and last log line). */
rn_slirp *rn_slirp_start(pid_t pid, const char *log_path, char **err);

/* Host pid of the slirp4netns process. */
pid_t rn_slirp_pid(const rn_slirp *s);

/* Stops slirp4netns and reaps it. NULL is a no-op. */
void rn_slirp_stop(rn_slirp *s);

/* A TCP socket listening on 127.0.0.1:port inside the network namespace of `pid` (a container's
 * init): how runnel serves something of its own (the cache service) to a container with a
 * private network without opening the host's loopback to it. The socket is made on a short-lived
 * thread that enters the namespace (a network namespace is per thread); runnel keeps its own.
 * Returns the fd (the caller owns it), or -1 with *err set (caller frees). */
int rn_netns_listen_tcp(pid_t pid, unsigned short port, char **err);

#endif
