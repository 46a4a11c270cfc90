// The Linux headers Glibc's Swift module does not export, plus accessors for epoll_event,
// which is a packed struct on x86_64 and awkward to build field by field from Swift.
#ifndef LADDERWIRE_CSYSTEM_H
#define LADDERWIRE_CSYSTEM_H

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/signalfd.h>

/// Registers, modifies or removes `fd` in an epoll set; `token` comes back in events.
int lw_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);

/// Waits for events and copies them out as (token, events) pairs, so Swift never touches the packed struct.
int lw_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max_events, int timeout_ms);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC (accept4 needs _GNU_SOURCE, which Swift cannot set).
int lw_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len);

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and every thread it creates later)
/// and returns a non-blocking signalfd that reports them, for the event loop to read.
int lw_block_shutdown_signals(void);

/// Reads one pending signal from a signalfd; returns its number, or 0 when none is pending.
int lw_read_signal(int fd);

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit or -1.
long lw_raise_nofile_limit(void);

#endif
