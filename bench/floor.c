// SPDX-License-Identifier: MIT
/* The floor of the benchmark: the raw kernel work of provisioning N maps,
 * with libbpf's low-level calls and nothing else.
 *
 *   floor create DIR N   mkdir as needed, then per map bpf_map_create()
 *                        (ARRAY, key 4, value 4, one entry) + bpf_obj_pin()
 *                        + close(), at DIR/bNNN/oNNNNNN/mJ: the tree that
 *                        bench/gen-manifest.sh declares (ten maps per
 *                        directory, 1000 directories per namespace).
 *   floor create-safe DIR N
 *                        the same, and after each pin its fstatat() and the
 *                        map's bpf_obj_get_info_by_fd() (the inode, mtime
 *                        and id a ledger records): the least an apply that
 *                        records what it made must do.
 *   floor scan DIR       walk DIR with readdir(); per pin bpf_obj_get() +
 *                        bpf_obj_get_info_by_fd() + close(): the least a
 *                        no-op plan must do.
 *
 *   floor time FILE CMD [ARG...]
 *                        runs CMD and writes "SECONDS MAXRSS_KIB STATUS" to
 *                        FILE: wall-clock time from fork to exit, peak RSS
 *                        (wait4), exit status; exits with CMD's status.  The
 *                        benchmark times every process it compares this way,
 *                        the floor's own included.
 *
 * create, create-safe and scan print "SECONDS COUNT" (elapsed wall-clock
 * time inside the process, pins made or read) on stdout.  On a failure they
 * print what failed and how many pins were made, and exit 1: the script
 * reports where N stopped and why. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#define MAPS_PER_DIR 10
#define DIRS_PER_NS 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The safe floor's pin: what the ledger records of it read back. */
static int pin_recorded(int fd, const char *path)
{
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	struct stat st;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_pin(fd, path) < 0 || fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	return bpf_obj_get_info_by_fd(fd, &info, &info_len);
}

static int do_create(const char *root, unsigned long n, bool safe)
{
	char path[4096], name[16];
	double t0 = now();
	unsigned long i;

	for (i = 0; i < n; i++) {
		unsigned long obj = i / MAPS_PER_DIR, j = i % MAPS_PER_DIR;
		int fd;

		if (j == 0) {
			if (obj % DIRS_PER_NS == 0) {
				snprintf(path, sizeof(path), "%s/b%03lu", root, obj / DIRS_PER_NS);
				if (mkdir(path, 0700) < 0 && errno != EEXIST)
					goto fail;
			}
			snprintf(path, sizeof(path), "%s/b%03lu/o%06lu", root, obj / DIRS_PER_NS,
				 obj);
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				goto fail;
		}
		snprintf(name, sizeof(name), "m%lu", j);
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 4, 1, NULL);
		if (fd < 0) {
			snprintf(path, sizeof(path), "bpf_map_create");
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/b%03lu/o%06lu/m%lu", root, obj / DIRS_PER_NS, obj,
			 j);
		if (safe ? pin_recorded(fd, path) < 0 : bpf_obj_pin(fd, path) < 0) {
			int e = errno;

			close(fd);
			errno = e;
			goto fail;
		}
		close(fd);
	}
	printf("%.6f %lu\n", now() - t0, n);
	return 0;
fail:
	fprintf(stderr, "floor create: %s: %s (errno %d) after %lu maps\n", path, strerror(errno),
		errno, i);
	return 1;
}

struct scan {
	unsigned long pins, errors;
};

static int walk(struct scan *s, char *path, size_t len)
{
	DIR *dir = opendir(path);
	struct dirent *de;

	if (!dir) {
		fprintf(stderr, "floor scan: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		size_t nl = strlen(de->d_name);
		unsigned char type = de->d_type;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len + 1 + nl + 1 > 4096) {
			s->errors++;
			continue;
		}
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, nl + 1);
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				s->errors++;
				continue;
			}
			type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		if (type == DT_DIR) {
			if (walk(s, path, len + 1 + nl) < 0)
				s->errors++;
		} else if (type == DT_REG) {
			struct bpf_map_info info;
			__u32 info_len = sizeof(info);
			int fd = bpf_obj_get(path);

			memset(&info, 0, sizeof(info));
			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &info_len) < 0)
				s->errors++; /* e.g. the kernel's maps.debug, progs.debug */
			else
				s->pins++;
			if (fd >= 0)
				close(fd);
		}
	}
	path[len] = '\0';
	closedir(dir);
	return 0;
}

static int do_scan(const char *root)
{
	static char path[4096];
	struct scan s = { 0 };
	double t0;

	if (strlen(root) >= sizeof(path)) {
		fprintf(stderr, "floor scan: path too long\n");
		return 1;
	}
	strcpy(path, root);
	t0 = now();
	if (walk(&s, path, strlen(path)) < 0)
		return 1;
	printf("%.6f %lu\n", now() - t0, s.pins);
	return 0;
}

static int do_time(const char *file, char **argv)
{
	struct rusage ru;
	double t0 = now(), t;
	int status = 0, code;
	pid_t pid = fork();
	FILE *f;

	if (pid < 0) {
		perror("floor time: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "floor time: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("floor time: wait4");
		return 2;
	}
	t = now() - t0;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	f = fopen(file, "w");
	if (!f || fprintf(f, "%.6f %ld %d\n", t, ru.ru_maxrss, code) < 0 || fclose(f) == EOF) {
		fprintf(stderr, "floor time: %s: %s\n", file, strerror(errno));
		return 2;
	}
	return code;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long n;

	if (argc == 4 && (!strcmp(argv[1], "create") || !strcmp(argv[1], "create-safe"))) {
		errno = 0;
		n = strtoul(argv[3], &end, 10);
		if (errno || *end || end == argv[3]) {
			fprintf(stderr, "floor: bad N '%s'\n", argv[3]);
			return 2;
		}
		return do_create(argv[2], n, !strcmp(argv[1], "create-safe"));
	}
	if (argc == 3 && !strcmp(argv[1], "scan"))
		return do_scan(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "time"))
		return do_time(argv[2], argv + 3);
	fprintf(stderr, "usage: floor create DIR N | floor create-safe DIR N | floor scan DIR | "
			"floor time FILE CMD [ARG...]\n");
	return 2;
}
