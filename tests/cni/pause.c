// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* pause.c - the whole rootfs of the test container podman runs: waits for a signal, exits 0. */
#include <signal.h>
#include <unistd.h>

static void done(int sig)
{
	(void)sig;
	_exit(0);
}

int main(void)
{
	signal(SIGTERM, done);
	signal(SIGINT, done);
	for (;;)
		pause();
}
