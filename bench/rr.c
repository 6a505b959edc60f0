/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * rr.c - TCP request/response and connection-rate load generator (netperf's TCP_RR and
 * TCP_CRR, which Debian does not ship), client and server in one binary.
 *
 *   sl-bench-rr server [-a ADDR] [-p PORT]
 *   sl-bench-rr client -a ADDR [-p PORT] -m rr|crr [-t SECONDS]
 *
 * Messages are one byte. The request byte tells the server what to do, so one server serves
 * both modes: 'r' = answer and keep the connection, 'c' = answer and close. The server handles
 * one connection at a time (the client is sequential), in one thread, so pinned to one CPU it
 * measures that CPU's cost per transaction.
 *
 * In crr mode the server closes first and the client closes only after it has read the EOF:
 * TIME_WAIT stays on the server side, so the client never runs out of ephemeral ports, and a
 * new SYN on a 4-tuple still in TIME_WAIT is accepted by the server (timestamps are newer).
 *
 * The server prints "ready" once listening (an event the caller waits for). The client prints
 * one line: "mode=rr transactions=N seconds=S rate=R cpu_ns=C" (R in transactions per second,
 * C the client's own CPU time over the run, softirq work done in its context included; the
 * caller reads the server's from /proc/PID/schedstat, the same clock).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT 7001
#define REQ_KEEP     'r'
#define REQ_CLOSE    'c'

enum mode { MODE_RR, MODE_CRR };

struct opts {
	struct sockaddr_in addr;
	enum mode mode;
	double seconds;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time this process has run, in ns: the scheduler's sum_exec_runtime. */
static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void set_nodelay(int fd)
{
	int one = 1;

	/* Best effort: a 1-byte ping-pong never waits on Nagle, this only makes it explicit. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Serve one connection until the peer closes it or asks for a close. */
static void serve(int fd)
{
	char c;
	ssize_t n;

	set_nodelay(fd);
	for (;;) {
		n = read(fd, &c, 1);
		if (n <= 0)
			break;
		if (write(fd, &c, 1) != 1)
			break;
		if (c == REQ_CLOSE)
			break;
	}
	close(fd);
}

static int run_server(const struct opts *o)
{
	int one = 1;
	int lfd, fd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0) {
		fprintf(stderr, "server: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (const struct sockaddr *)&o->addr, sizeof(o->addr)) || listen(lfd, 128)) {
		fprintf(stderr, "server: bind/listen %s:%u: %s\n", inet_ntoa(o->addr.sin_addr),
			ntohs(o->addr.sin_port), strerror(errno));
		close(lfd);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "server: accept: %s\n", strerror(errno));
			close(lfd);
			return 1;
		}
		serve(fd);
	}
}

static int dial(const struct opts *o)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		fprintf(stderr, "client: socket: %s\n", strerror(errno));
		return -errno;
	}
	if (connect(fd, (const struct sockaddr *)&o->addr, sizeof(o->addr))) {
		fprintf(stderr, "client: connect %s:%u: %s\n", inet_ntoa(o->addr.sin_addr),
			ntohs(o->addr.sin_port), strerror(errno));
		close(fd);
		return -errno;
	}
	set_nodelay(fd);
	return fd;
}

/* One request/response on fd; 0 or -errno. */
static int transact(int fd, char req)
{
	char c = req;
	ssize_t n;

	if (write(fd, &c, 1) != 1) {
		fprintf(stderr, "client: write: %s\n", strerror(errno));
		return -EIO;
	}
	n = read(fd, &c, 1);
	if (n != 1) {
		fprintf(stderr, "client: read: %s\n", n < 0 ? strerror(errno) : "server closed");
		return -EIO;
	}
	return 0;
}

static int run_client(const struct opts *o)
{
	unsigned long long count = 0;
	double start, end, t = 0;
	int fd = -1, err = 0;
	long long cpu0;
	char c;

	cpu0 = cpu_ns();
	start = now();
	end = start + o->seconds;
	if (o->mode == MODE_RR) {
		fd = dial(o);
		if (fd < 0)
			return 1;
	}
	do {
		if (o->mode == MODE_RR) {
			err = transact(fd, REQ_KEEP);
		} else {
			fd = dial(o);
			if (fd < 0)
				return 1;
			err = transact(fd, REQ_CLOSE);
			/* Wait for the server's FIN so that TIME_WAIT stays on its side. */
			if (!err && read(fd, &c, 1) != 0) {
				fprintf(stderr, "client: expected EOF after the response\n");
				err = -EPROTO;
			}
			close(fd);
			fd = -1;
		}
		if (err)
			break;
		count++;
		t = now();
	} while (t < end);
	if (fd >= 0)
		close(fd);
	if (err)
		return 1;
	printf("mode=%s transactions=%llu seconds=%.3f rate=%.1f cpu_ns=%lld\n",
	       o->mode == MODE_RR ? "rr" : "crr", count, t - start, count / (t - start),
	       cpu_ns() - cpu0);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sl-bench-rr server [-a ADDR] [-p PORT]\n"
		   "       sl-bench-rr client -a ADDR [-p PORT] -m rr|crr [-t SECONDS]\n");
}

int main(int argc, char **argv)
{
	struct opts o = {
	    .addr = {.sin_family = AF_INET, .sin_port = htons(DEFAULT_PORT)},
	    .mode = MODE_RR,
	    .seconds = 5,
	};
	bool server, have_addr = false;
	char *end;
	long port;
	int opt;

	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		usage(stderr);
		return 2;
	}
	server = !strcmp(argv[1], "server");
	optind = 2;
	while ((opt = getopt(argc, argv, "a:p:m:t:h")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &o.addr.sin_addr) != 1) {
				fprintf(stderr, "-a: not an IPv4 address: '%s'\n", optarg);
				return 2;
			}
			have_addr = true;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535) {
				fprintf(stderr, "-p: not a port number: '%s'\n", optarg);
				return 2;
			}
			o.addr.sin_port = htons(port);
			break;
		case 'm':
			if (!strcmp(optarg, "rr")) {
				o.mode = MODE_RR;
			} else if (!strcmp(optarg, "crr")) {
				o.mode = MODE_CRR;
			} else {
				fprintf(stderr, "-m: expected rr or crr, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			o.seconds = strtod(optarg, &end);
			if (*end || !(o.seconds > 0 && o.seconds <= 3600)) {
				fprintf(stderr, "-t: expected seconds in (0, 3600], got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!server && !have_addr) {
		fprintf(stderr, "client: -a ADDR is required\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return server ? run_server(&o) : run_client(&o);
}
