// The floor for `ladderwire-bench latency`: a minimal epoll WebSocket relay in C that does for
// bytes what Ladderwire does for fills, and nothing else. A producer's text frame on /feed goes
// out unchanged to every /ws subscriber (one write per subscriber) and is answered with an ack;
// a subscriber gets a one-line "snapshot" first, as from Ladderwire. No parsing beyond finding the
// execId, no storage, no ledger: the latency and CPU a relay of these bytes costs on this machine.
//
// With `--journal PATH` it also commits every producer message to SQLite before relaying it, as
// one row in its own transaction (WAL, synchronous=NORMAL, the journal's autocheckpoint and size
// limit), and acks with the row's seq: the floor of any server that persists each fill before
// anyone sees it. No ledger, no encoding, no execId index: only the commit.
//
// Build: cc -O2 -o floor-relay tools/bench/floor-relay.c -lcrypto -lsqlite3
// Run:   floor-relay [PORT] [--journal PATH [--exclusive]] [--snapshot-bytes N]   (port 0 or none: any free port; prints
//        "listening on http://127.0.0.1:PORT")
//
// Not a server for anything but this bench: loopback only, no limits, no TLS.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum kind { HANDSHAKING, SUBSCRIBER, PRODUCER };

typedef struct conn {
    int fd;
    enum kind kind;
    unsigned char *in;           // bytes read, not yet consumed
    size_t in_len, in_cap;
    unsigned char *out;          // bytes queued, not yet written
    size_t out_len, out_cap;
    struct conn *next_sub;       // subscriber list
    int watching_out;
} conn;

static int epfd;
static conn *subscribers;
static long long acked;
static sqlite3 *journal;              // NULL: relay only
static unsigned char *snapshot;       // what a subscriber gets first
static size_t snapshot_len;
static sqlite3_stmt *insert, *begin, *commit;

static void die(const char *what) { perror(what); exit(1); }

static void append(unsigned char **buf, size_t *len, size_t *cap, const void *data, size_t n) {
    if (*len + n > *cap) {
        size_t want = *cap ? *cap * 2 : 4096;
        while (want < *len + n) want *= 2;
        *buf = realloc(*buf, want);
        if (!*buf) die("realloc");
        *cap = want;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
}

static void close_conn(conn *c) {
    if (c->kind == SUBSCRIBER) {
        for (conn **p = &subscribers; *p; p = &(*p)->next_sub) {
            if (*p == c) { *p = c->next_sub; break; }
        }
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c);
}

/// Writes what is queued; watches for writability only while something is left.
static int flush(conn *c) {
    while (c->out_len > 0) {
        ssize_t n = write(c->fd, c->out, c->out_len);
        if (n < 0) {
            if (errno == EAGAIN) break;
            if (errno == EINTR) continue;
            return -1;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    int want = c->out_len > 0;
    if (want != c->watching_out) {
        struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->watching_out = want;
    }
    return 0;
}

/// Queues one unmasked text frame.
static void send_text(conn *c, const unsigned char *payload, size_t n) {
    unsigned char header[10];
    size_t h = 0;
    header[h++] = 0x81;
    if (n < 126) {
        header[h++] = (unsigned char)n;
    } else if (n < 65536) {
        header[h++] = 126;
        header[h++] = (unsigned char)(n >> 8);
        header[h++] = (unsigned char)n;
    } else {
        header[h++] = 127;
        for (int shift = 56; shift >= 0; shift -= 8) header[h++] = (unsigned char)((uint64_t)n >> shift);
    }
    append(&c->out, &c->out_len, &c->out_cap, header, h);
    append(&c->out, &c->out_len, &c->out_cap, payload, n);
}

static void base64(const unsigned char *in, size_t n, char *out) {
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = table[v >> 18 & 63];
        out[o++] = table[v >> 12 & 63];
        out[o++] = i + 1 < n ? table[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? table[v & 63] : '=';
    }
    out[o] = 0;
}

/// The opening handshake: answers 101 once the request head is complete.
static int handshake(conn *c) {
    unsigned char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - c->in) + 4;
    char *request = strndup((char *)c->in, head);
    char *key = strcasestr(request, "\nSec-WebSocket-Key:");
    if (!key) { free(request); return -1; }
    key += strlen("\nSec-WebSocket-Key:");
    while (*key == ' ') key++;
    size_t key_len = strcspn(key, "\r\n");
    char material[128];
    snprintf(material, sizeof material, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)key_len, key);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((unsigned char *)material, strlen(material), digest);
    char accept[64];
    base64(digest, sizeof digest, accept);
    c->kind = strncmp(request, "GET /feed", 9) == 0 ? PRODUCER : SUBSCRIBER;
    free(request);
    char reply[256];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    append(&c->out, &c->out_len, &c->out_cap, reply, (size_t)n);
    if (c->kind == SUBSCRIBER) {
        send_text(c, snapshot, snapshot_len);
        c->next_sub = subscribers;
        subscribers = c;
    }
    memmove(c->in, c->in + head, c->in_len - head);
    c->in_len -= head;
    return flush(c);
}

static void check(int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(journal));
        exit(1);
    }
}

static void open_journal(const char *path, int exclusive) {
    check(sqlite3_open(path, &journal), "open");
    // --exclusive: no shared-memory WAL index and no file locks per commit; no other connection
    // (a reader, a checkpointer, the sqlite3 shell) could then open the file.
    if (exclusive) check(sqlite3_exec(journal, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL, NULL), "locking");
    check(sqlite3_exec(journal,
        "PRAGMA cache_size=-8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "PRAGMA wal_autocheckpoint=4000; PRAGMA journal_size_limit=81920000;"
        "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, payload BLOB NOT NULL);",
        NULL, NULL, NULL), "schema");
    check(sqlite3_prepare_v2(journal, "INSERT INTO events(payload) VALUES (?)", -1, &insert, NULL), "prepare");
    check(sqlite3_prepare_v2(journal, "BEGIN IMMEDIATE", -1, &begin, NULL), "prepare");
    check(sqlite3_prepare_v2(journal, "COMMIT", -1, &commit, NULL), "prepare");
}

/// Commits one message as its own transaction; returns its seq.
static long long persist(const unsigned char *payload, size_t n) {
    check(sqlite3_step(begin), "begin");
    sqlite3_reset(begin);
    sqlite3_bind_blob(insert, 1, payload, (int)n, SQLITE_STATIC);
    check(sqlite3_step(insert), "insert");
    sqlite3_reset(insert);
    check(sqlite3_step(commit), "commit");
    sqlite3_reset(commit);
    return sqlite3_last_insert_rowid(journal);
}

/// One producer message: relayed to every subscriber, acknowledged to the producer.
static void relay(conn *producer, const unsigned char *payload, size_t n) {
    long long seq = journal ? persist(payload, n) : ++acked;
    for (conn *s = subscribers; s; s = s->next_sub) {
        send_text(s, payload, n);
        if (flush(s) < 0) { /* closed on its next event */ }
    }
    const char *ref = memmem(payload, n, "\"execId\":\"", 10);
    size_t ref_len = 0;
    if (ref) {
        ref += 10;
        const char *quote = memchr(ref, '"', n - (size_t)(ref - (const char *)payload));
        ref_len = quote ? (size_t)(quote - ref) : 0;
    }
    char ack[256];
    int len = snprintf(ack, sizeof ack, "{\"type\":\"ack\",\"ref\":\"%.*s\",\"seq\":%lld}", (int)ref_len, ref ? ref : "", seq);
    send_text(producer, (unsigned char *)ack, (size_t)len);
}

/// Client frames (masked). Returns -1 to close.
static int frames(conn *c) {
    size_t at = 0;
    while (c->in_len - at >= 2) {
        unsigned char *f = c->in + at;
        int opcode = f[0] & 0x0F;
        uint64_t len = f[1] & 0x7F;
        size_t h = 2;
        if (len == 126) {
            if (c->in_len - at < 4) break;
            len = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (len == 127) {
            if (c->in_len - at < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i];
            h = 10;
        }
        if (!(f[1] & 0x80)) return -1;   // clients must mask
        if (c->in_len - at < h + 4 + len) break;
        unsigned char *mask = f + h, *payload = f + h + 4;
        for (uint64_t i = 0; i < len; i++) payload[i] ^= mask[i & 3];
        if (opcode == 0x8) return -1;
        if (opcode == 0x1 && c->kind == PRODUCER) relay(c, payload, (size_t)len);
        at += h + 4 + (size_t)len;
    }
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
    return c->kind == PRODUCER ? flush(c) : 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    int port = 0, exclusive = 0;
    size_t snapshot_bytes = 0;
    const char *journal_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--journal") == 0 && i + 1 < argc) journal_path = argv[++i];
        else if (strcmp(argv[i], "--exclusive") == 0) exclusive = 1;
        else if (strcmp(argv[i], "--snapshot-bytes") == 0 && i + 1 < argc) snapshot_bytes = (size_t)atol(argv[++i]);
        else port = atoi(argv[i]);
    }
    if (journal_path) open_journal(journal_path, exclusive);
    // --snapshot-bytes N: the first message is padded to N bytes, as big as a real desk's
    // snapshot (a connect storm's floor); by default a one-line snapshot.
    static const char head[] = "{\"type\":\"snapshot\",\"seq\":0,\"pad\":\"";
    size_t wanted = snapshot_bytes > sizeof head + 1 ? snapshot_bytes : sizeof head + 1;
    snapshot = malloc(wanted);
    if (!snapshot) die("malloc");
    memcpy(snapshot, head, sizeof head - 1);
    memset(snapshot + sizeof head - 1, 'x', wanted - (sizeof head - 1) - 2);
    memcpy(snapshot + wanted - 2, "\"}", 2);
    snapshot_len = wanted;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) die("bind");
    if (listen(listener, 4096) < 0) die("listen");
    socklen_t size = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &size);
    printf("listening on http://127.0.0.1:%d\n", ntohs(address.sin_port));
    fflush(stdout);

    epfd = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    struct epoll_event events[256];
    unsigned char scratch[65536];
    for (;;) {
        int n = epoll_wait(epfd, events, 256, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *fresh = calloc(1, sizeof *fresh);
                    fresh->fd = fd;
                    struct epoll_event add = { .events = EPOLLIN, .data.ptr = fresh };
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &add);
                }
                continue;
            }
            if (events[i].events & EPOLLOUT && flush(c) < 0) { close_conn(c); continue; }
            if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            ssize_t got = read(c->fd, scratch, sizeof scratch);
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                close_conn(c);
                continue;
            }
            append(&c->in, &c->in_len, &c->in_cap, scratch, (size_t)got);
            int rc = c->kind == HANDSHAKING ? handshake(c) : 0;
            if (rc == 0 && c->kind != HANDSHAKING) rc = frames(c);
            if (rc < 0) close_conn(c);
        }
    }
}
