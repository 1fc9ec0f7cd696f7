/* delayproxy: a TCP proxy on loopback that holds every chunk for a fixed time in each direction.

   usage: delayproxy LISTEN_PORT UPSTREAM_PORT DELAY_MICROSECONDS

   bench/remote.py puts it between the web workers and Redis to play "Redis one network hop away"
   (the added round trip is twice the delay). Written in C, not Python, so that the proxy takes
   little of the two cores the benchmark shares (a Python proxy costs ~100 us of CPU per callback),
   and with one reader and one writer thread per direction, which sleep until each chunk is due
   (clock_nanosleep: microsecond precision, where an event loop's timers round to milliseconds).
   Chunks keep their order; a closed side is passed on as a shutdown of the other. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct chunk {
  struct timespec due;
  struct chunk *next;
  size_t len;
  char data[];
};

struct direction {  /* bytes read from `from`, written to `to` once due */
  int from, to, closed;
  struct chunk *head, *tail;
  pthread_mutex_t lock;
  pthread_cond_t ready;
};

static long delay_ns;

static void *reader(void *arg) {
  struct direction *d = arg;
  char buf[65536];
  for (;;) {
    ssize_t n = read(d->from, buf, sizeof buf);
    struct chunk *c = n > 0 ? malloc(sizeof *c + (size_t)n) : NULL;
    pthread_mutex_lock(&d->lock);
    if (!c) {
      d->closed = 1;
      pthread_cond_signal(&d->ready);
      pthread_mutex_unlock(&d->lock);
      return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &c->due);
    c->due.tv_nsec += delay_ns;
    c->due.tv_sec += c->due.tv_nsec / 1000000000L;
    c->due.tv_nsec %= 1000000000L;
    c->next = NULL;
    c->len = (size_t)n;
    memcpy(c->data, buf, (size_t)n);
    if (d->tail) d->tail->next = c; else d->head = c;
    d->tail = c;
    pthread_cond_signal(&d->ready);
    pthread_mutex_unlock(&d->lock);
  }
}

static void *writer(void *arg) {
  struct direction *d = arg;
  for (;;) {
    pthread_mutex_lock(&d->lock);
    while (!d->head && !d->closed) pthread_cond_wait(&d->ready, &d->lock);
    struct chunk *c = d->head;
    if (c) {
      d->head = c->next;
      if (!d->head) d->tail = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    if (!c) {
      shutdown(d->to, SHUT_WR);
      return NULL;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &c->due, NULL) != 0) {}
    for (size_t sent = 0; sent < c->len;) {
      ssize_t n = write(d->to, c->data + sent, c->len - sent);
      if (n <= 0) break;
      sent += (size_t)n;
    }
    free(c);
  }
}

static void start(int from, int to) {
  struct direction *d = calloc(1, sizeof *d);
  pthread_t t;
  d->from = from;
  d->to = to;
  pthread_mutex_init(&d->lock, NULL);
  pthread_cond_init(&d->ready, NULL);
  pthread_create(&t, NULL, reader, d);
  pthread_detach(t);
  pthread_create(&t, NULL, writer, d);
  pthread_detach(t);
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s LISTEN_PORT UPSTREAM_PORT DELAY_MICROSECONDS\n", argv[0]);
    return 2;
  }
  int one = 1, server = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in here = loopback(atoi(argv[1])), upstream = loopback(atoi(argv[2]));
  delay_ns = atol(argv[3]) * 1000L;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(server, (struct sockaddr *)&here, sizeof here) || listen(server, 512)) {
    perror("delayproxy: listen");
    return 1;
  }
  for (;;) {
    int client = accept(server, NULL, NULL), up = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0) continue;
    if (connect(up, (struct sockaddr *)&upstream, sizeof upstream)) {
      close(client);
      close(up);
      continue;
    }
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    start(client, up);
    start(up, client);
  }
}
