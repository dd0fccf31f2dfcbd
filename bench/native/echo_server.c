/*
 * echo_server: the native anchor for EchoHost's benchmarks. One epoll loop per thread (--threads, default 1), each
 * with its own SO_REUSEPORT listener so the kernel spreads connections across them, EchoHost's protocol:
 * with --prefix P every LF-terminated line comes back as P + line (a partial line waits for its LF, up to
 * 8192 bytes); without it, every read comes back as it is. While a reply cannot be written in full, the
 * connection is not read (back-pressure), like EchoHost.
 *
 *   echo_server --port 8889 [--prefix 'Echoed back: '] [--threads 1]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LINE 8192
#define BUFFER (64 * 1024)

typedef struct {
    int fd;
    size_t pending;          /* bytes of a partial line kept in `line` */
    char line[MAX_LINE];
    char *out;               /* unwritten reply bytes */
    size_t out_length, out_offset;
} connection;

static const char *prefix = NULL;
static size_t prefix_length = 0;
static int port = 8889;
static __thread char input[BUFFER];
static __thread char *output; /* room for the worst case: every input byte a line of its own, each with the prefix */

static void closing(int epoll, connection *c) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out);
    free(c);
}

/* Writes what it can; keeps the rest and waits for EPOLLOUT. Returns -1 when the peer is gone. */
static int send_reply(int epoll, connection *c, const char *data, size_t length) {
    ssize_t n = write(c->fd, data, length);
    if (n < 0 && errno != EAGAIN) return -1;
    if (n < 0) n = 0;
    if ((size_t)n < length) {
        c->out = malloc(length - n);
        memcpy(c->out, data + n, length - n);
        c->out_length = length - n;
        c->out_offset = 0;
        struct epoll_event event = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
    }
    return 0;
}

static int on_readable(int epoll, connection *c) {
    ssize_t n = read(c->fd, input, sizeof input);
    if (n == 0 || (n < 0 && errno != EAGAIN)) return -1;
    if (n < 0) return 0;
    if (!prefix) return send_reply(epoll, c, input, n);

    size_t produced = 0, start = 0;
    for (size_t i = 0; i < (size_t)n; i++) {
        if (input[i] != '\n' && c->pending + (i - start) + 1 < MAX_LINE) continue;
        memcpy(output + produced, prefix, prefix_length);
        produced += prefix_length;
        memcpy(output + produced, c->line, c->pending);
        produced += c->pending;
        memcpy(output + produced, input + start, i + 1 - start);
        produced += i + 1 - start;
        c->pending = 0;
        start = i + 1;
    }
    memcpy(c->line + c->pending, input + start, n - start);
    c->pending += n - start;
    return produced ? send_reply(epoll, c, output, produced) : 0;
}

static int on_writable(int epoll, connection *c) {
    ssize_t n = write(c->fd, c->out + c->out_offset, c->out_length - c->out_offset);
    if (n < 0 && errno != EAGAIN) return -1;
    if (n > 0) c->out_offset += n;
    if (c->out_offset == c->out_length) {
        free(c->out);
        c->out = NULL;
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
    }
    return 0;
}

static void *serve(void *unused) {
    (void)unused;
    int one = 1;
    output = malloc(BUFFER * (prefix_length + 1) + MAX_LINE);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0) {
        perror("echo_server: bind");
        exit(1);
    }
    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[512];
    for (;;) {
        int ready = epoll_wait(epoll, events, 512, -1);
        for (int i = 0; i < ready; i++) {
            connection *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    connection *fresh = calloc(1, sizeof *fresh);
                    fresh->fd = fd;
                    struct epoll_event in = {.events = EPOLLIN, .data.ptr = fresh};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &in);
                }
                continue;
            }
            int result = (events[i].events & EPOLLOUT) ? on_writable(epoll, c) : on_readable(epoll, c);
            if (result < 0 || (events[i].events & (EPOLLHUP | EPOLLERR) && !(events[i].events & EPOLLIN))) closing(epoll, c);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--prefix")) { prefix = argv[i + 1]; prefix_length = strlen(prefix); }
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else { fprintf(stderr, "echo_server: unknown option %s\n", argv[i]); return 2; }
    }
    if (prefix && prefix_length == 0) prefix = NULL; /* an empty prefix is a pure echo */
    if (threads < 1) {
        fprintf(stderr, "echo_server: --threads >= 1\n");
        return 2;
    }
    pthread_t *ids = calloc(threads, sizeof *ids);
    for (int t = 1; t < threads; t++) pthread_create(&ids[t], NULL, serve, NULL);
    serve(NULL);
    return 0;
}
