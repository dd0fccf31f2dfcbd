/*
 * echo_load: a native load generator for line echo servers, so that the generator is never the bottleneck of a
 * benchmark. One epoll loop per thread. In pingpong mode (closed loop) each connection sends one message of --size
 * bytes (ending in LF), waits for the whole reply (--prefix-bytes + size), and sends the next. In stream mode each
 * connection writes messages whenever the socket takes them and reads replies as they come, checking that every
 * reply ends in LF where it should.
 *
 *   echo_load --port 8888 [--host 127.0.0.1] [--mode pingpong|stream] [--connections 100] [--size 1024]
 *             [--prefix-bytes 13] [--seconds 5] [--threads 1]
 *
 * Prints one JSON object: requestsPerSecond (replies), megabytesPerSecond (reply bytes), p50/p99/p999 latency in
 * microseconds (pingpong only; -1 in stream mode), errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUCKETS 4096 /* latency histogram: 1 us buckets up to 4 ms, then one overflow bucket per ms */

typedef struct {
    int fd;
    size_t sent, received;
    long long started_ns;
} connection;

typedef struct {
    int connections, size, reply, seconds, stream;
    const char *host;
    int port;
    long long requests, bytes, errors;
    long long histogram[BUCKETS + 1001];
} worker;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void record(worker *w, long long ns) {
    long long us = ns / 1000;
    if (us < BUCKETS) w->histogram[us]++;
    else w->histogram[BUCKETS + (us / 1000 < 1000 ? us / 1000 : 1000)]++;
}

static int open_connection(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &address.sin_addr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { close(fd); return -1; }
    return fd;
}

/* Stream mode: `sent` is the offset in the message being written, `received` the offset in the reply being read. */
static void stream(worker *w, int epoll, const char *message, long long deadline) {
    static __thread char input[64 * 1024];
    struct epoll_event events[256];
    while (now_ns() < deadline) {
        int ready = epoll_wait(epoll, events, 256, 100);
        for (int i = 0; i < ready; i++) {
            connection *c = events[i].data.ptr;
            if (events[i].events & EPOLLOUT) {
                ssize_t n = write(c->fd, message + c->sent, w->size - c->sent);
                if (n > 0) c->sent = (c->sent + n) % w->size;
            }
            if (!(events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
            ssize_t n = read(c->fd, input, sizeof input);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                w->errors++;
                epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            w->bytes += n;
            for (ssize_t at = w->reply - 1 - c->received; at < n; at += w->reply) {
                if (input[at] != '\n') w->errors++;
                w->requests++;
            }
            c->received = (c->received + n) % w->reply;
        }
    }
}

static void *run(void *argument) {
    worker *w = argument;
    char *message = malloc(w->size), *reply = malloc(w->reply);
    memset(message, 'x', w->size);
    message[w->size - 1] = '\n';
    int epoll = epoll_create1(0);
    connection *all = calloc(w->connections, sizeof *all);
    for (int i = 0; i < w->connections; i++) {
        all[i].fd = open_connection(w->host, w->port);
        if (all[i].fd < 0) { w->errors++; continue; }
        struct epoll_event event = {.events = w->stream ? EPOLLIN | EPOLLOUT : EPOLLIN, .data.ptr = &all[i]};
        epoll_ctl(epoll, EPOLL_CTL_ADD, all[i].fd, &event);
        all[i].started_ns = now_ns();
        if (!w->stream && write(all[i].fd, message, w->size) != w->size) w->errors++;
    }
    long long deadline = now_ns() + (long long)w->seconds * 1000000000LL;
    if (w->stream) {
        stream(w, epoll, message, deadline);
        for (int i = 0; i < w->connections; i++) if (all[i].fd >= 0) close(all[i].fd);
        return NULL;
    }
    struct epoll_event events[256];
    while (now_ns() < deadline) {
        int ready = epoll_wait(epoll, events, 256, 100);
        for (int i = 0; i < ready; i++) {
            connection *c = events[i].data.ptr;
            ssize_t n = read(c->fd, reply, w->reply - c->received);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                w->errors++;
                epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            c->received += n;
            if (c->received < (size_t)w->reply) continue;
            long long t = now_ns();
            record(w, t - c->started_ns);
            w->requests++;
            w->bytes += w->reply;
            c->received = 0;
            c->started_ns = t;
            if (write(c->fd, message, w->size) != w->size) w->errors++;
        }
    }
    for (int i = 0; i < w->connections; i++) if (all[i].fd >= 0) close(all[i].fd);
    return NULL;
}

static long long percentile(long long *histogram, long long total, double p) {
    long long wanted = (long long)(total * p), seen = 0;
    for (int i = 0; i < BUCKETS + 1001; i++) {
        seen += histogram[i];
        if (seen > wanted) return i < BUCKETS ? i : (long long)(i - BUCKETS) * 1000;
    }
    return -1;
}

int main(int argc, char **argv) {
    int connections = 100, size = 1024, prefix = 13, seconds = 5, threads = 1, port = 8888, stream = 0;
    const char *host = "127.0.0.1";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--connections")) connections = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size")) size = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--prefix-bytes")) prefix = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host")) host = argv[i + 1];
        else if (!strcmp(argv[i], "--mode") && !strcmp(argv[i + 1], "stream")) stream = 1;
        else if (!strcmp(argv[i], "--mode") && !strcmp(argv[i + 1], "pingpong")) stream = 0;
        else { fprintf(stderr, "echo_load: unknown option %s\n", argv[i]); return 2; }
    }
    if (size < 1 || connections < threads || threads < 1 || seconds < 1) {
        fprintf(stderr, "echo_load: --size >= 1, --seconds >= 1, and 1 <= --threads <= --connections\n");
        return 2;
    }
    worker *workers = calloc(threads, sizeof *workers);
    pthread_t *ids = calloc(threads, sizeof *ids);
    for (int t = 0; t < threads; t++) {
        workers[t] = (worker){.connections = connections / threads + (t < connections % threads), .size = size,
                              .reply = size + prefix, .seconds = seconds, .stream = stream, .host = host, .port = port};
        pthread_create(&ids[t], NULL, run, &workers[t]);
    }
    long long requests = 0, bytes = 0, errors = 0, *histogram = calloc(BUCKETS + 1001, sizeof *histogram);
    for (int t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        requests += workers[t].requests;
        bytes += workers[t].bytes;
        errors += workers[t].errors;
        for (int i = 0; i < BUCKETS + 1001; i++) histogram[i] += workers[t].histogram[i];
    }
    printf("{\"requestsPerSecond\": %.0f, \"megabytesPerSecond\": %.1f, \"p50\": %lld, \"p99\": %lld, \"p999\": %lld, "
           "\"errors\": %lld}\n",
           (double)requests / seconds, (double)bytes / seconds / 1e6, percentile(histogram, requests, 0.5), percentile(histogram, requests, 0.99),
           percentile(histogram, requests, 0.999), errors);
    return errors > 0 ? 1 : 0;
}
