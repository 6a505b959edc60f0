// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* test_common.c - unit tests of common/: the local-API framing and the logger. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent_proto.h"
#include "log.h"

static void framing_round_trip(void **state)
{
	int sv[2];
	char *got;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(sl_proto_write_line(sv[0], "{\"op\":\"status\"}", sl_now_ms() + 1000), 0);
	got = sl_proto_read_line(sv[1], sl_now_ms() + 1000);
	assert_non_null(got);
	assert_string_equal(got, "{\"op\":\"status\"}");
	free(got);
	close(sv[0]);
	close(sv[1]);
}

static void framing_split_writes(void **state)
{
	int sv[2];
	char *got;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], "{\"a\":", 5), 5);
	assert_int_equal(write(sv[0], "1}\nrest", 7), 7);
	got = sl_proto_read_line(sv[1], sl_now_ms() + 1000);
	assert_non_null(got);
	assert_string_equal(got, "{\"a\":1}");
	free(got);
	close(sv[0]);
	close(sv[1]);
}

static void framing_timeout(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], "{no newline", 11), 11);
	assert_null(sl_proto_read_line(sv[1], sl_now_ms() + 50));
	assert_int_equal(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

static void framing_closed_early(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], "{\"a\"", 4), 4);
	close(sv[0]);
	assert_null(sl_proto_read_line(sv[1], sl_now_ms() + 1000));
	assert_int_equal(errno, EPROTO);
	close(sv[1]);
}

static void framing_too_big(void **state)
{
	size_t n = SL_AGENT_MAX_MSG + 4096;
	char *big = malloc(n + 1);
	int sv[2];
	pid_t pid;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	if (pid == 0) { /* writer: the reader stops at the limit and closes */
		close(sv[1]);
		sl_proto_write_line(sv[0], big, sl_now_ms() + 5000);
		_exit(0);
	}
	close(sv[0]);
	assert_null(sl_proto_read_line(sv[1], sl_now_ms() + 5000));
	assert_int_equal(errno, EMSGSIZE);
	close(sv[1]);
	waitpid(pid, NULL, 0);
	free(big);
}

static void call_without_agent(void **state)
{
	cJSON *req = cJSON_CreateObject(), *resp = (cJSON *)1;
	char path[] = "/tmp/sl-unit-nosock-XXXXXX";
	int fd = mkstemp(path), err;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path); /* a path where nothing listens */
	err = sl_agent_call(path, req, &resp, 500);
	assert_int_equal(err, -ENOENT);
	assert_null(resp);
	cJSON_Delete(req);
}

static void log_levels(void **state)
{
	enum sl_log_level l;
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_int_equal(sl_log_parse_level("debug", &l), 0);
	assert_int_equal(l, SL_LOG_DEBUG);
	assert_int_equal(sl_log_parse_level("loud", &l), -EINVAL);
	sl_log_set_stream(f);
	sl_log_set_level(SL_LOG_WARN);
	pr_info("hidden");
	pr_err("veth%d: attach:\nfailed", 3);
	fclose(f);
	sl_log_set_stream(NULL);
	assert_null(strstr(buf, "hidden"));
	assert_non_null(strstr(buf, "level=error"));
	assert_non_null(strstr(buf, "msg=\"veth3: attach: failed\"")); /* one message, one line */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(framing_round_trip), cmocka_unit_test(framing_split_writes),
	    cmocka_unit_test(framing_timeout),	  cmocka_unit_test(framing_closed_early),
	    cmocka_unit_test(framing_too_big),	  cmocka_unit_test(call_without_agent),
	    cmocka_unit_test(log_levels),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	int total = (int)(sizeof(tests) / sizeof(tests[0]));

	printf("%d passed, %d failed\n", total - failed, failed);
	return failed ? 1 : 0;
}
