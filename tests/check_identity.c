// SPDX-License-Identifier: MIT
/* Unit tests of the split between the desired stage and program identity:
 * desired_build on real objects succeeds in a process whose bpf() calls all
 * fail (a seccomp filter), with every map's spec filled from the ELF, while
 * identity_load_tags fails there with EPERM and, where the kernel allows,
 * gives programs of the same code the same tag. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "check_suites.h"
#include "desired.h"
#include "identity.h"
#include "kind.h"
#include "loader.h"

/* The kill test's objects: a socket filter p<N> per N, all on one array
 * `counts` (4 x u32 -> u64); p0 and p4 have the same code. */
static const char *const objects[] = { "wired_btf", "wired_gobpf" };

struct fixture {
	struct manifest_set set;
	struct desired des;
	struct diag d;
};

static int build_yaml(const char *yaml, struct fixture *fx)
{
	struct manifest *m = NULL;
	int r;

	*fx = (struct fixture){ 0 };
	r = manifest_parse_buffer("identity.yaml", yaml, strlen(yaml), &fx->d, &m);
	if (r < 0)
		return r;
	fx->set.items = malloc(sizeof(*fx->set.items));
	if (!fx->set.items) {
		manifest_free(m);
		return -ENOMEM;
	}
	fx->set.items[fx->set.n++] = m;
	return desired_build(&fx->set, true, &fx->d, &fx->des);
}

static int build(const char *object, struct fixture *fx)
{
	char *yaml = NULL;
	int r;

	if (asprintf(&yaml,
		     "version: 1\nobjects:\n  - file: %s/tests/bpf/%s.o\n    namespace: t\n"
		     "    sections:\n"
		     "      - {program: p0, pinning: custom, path: t/p0}\n"
		     "      - {program: p1, pinning: custom, path: t/p1}\n"
		     "      - {program: p4, pinning: custom, path: t/p4}\n",
		     test_builddir(), object) < 0)
		return -ENOMEM;
	r = build_yaml(yaml, fx);
	free(yaml);
	return r;
}

static void done(struct fixture *fx)
{
	desired_done(&fx->des);
	manifest_set_done(&fx->set);
	diag_done(&fx->d);
}

static const struct desired_pin *pin(const struct fixture *fx, const char *path)
{
	for (size_t i = 0; i < fx->des.n_pins; i++)
		if (strcmp(fx->des.pins[i].path, path) == 0)
			return &fx->des.pins[i];
	return NULL;
}

/* Every bpf() of this process fails with EPERM, as it would without
 * CAP_BPF.  Only the syscall number is matched: the test runs no other ABI. */
static int deny_bpf(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
}

static char why[512];

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct observed_entry *)a)->path,
		      ((const struct observed_entry *)b)->path);
}

/* A tree where every pin of fx is found, each as what it should be: the
 * plan compares them all, so each program's tag is wanted.  The entries
 * borrow fx's paths (freed with entries alone). */
static struct observed found_all(const struct fixture *fx)
{
	struct observed obs = { .entries = calloc(fx->des.n_pins + 1, sizeof(*obs.entries)) };

	ck_assert_ptr_nonnull(obs.entries);
	for (size_t i = 0; i < fx->des.n_pins; i++)
		obs.entries[obs.n++] = (struct observed_entry){
			.path = fx->des.pins[i].path,
			.kind = (enum observed_kind)fx->des.pins[i].kind,
		};
	qsort(obs.entries, obs.n, sizeof(*obs.entries), by_path);
	return obs;
}

/* Runs in the filtered child: NULL, or what went wrong. */
static const char *offline(const char *object)
{
	struct fixture fx;
	const struct desired_pin *map, *prog;
	int r = build(object, &fx);

	map = pin(&fx, "t/globals/counts");
	prog = pin(&fx, "t/p0");
	if (r < 0)
		snprintf(why, sizeof(why), "desired_build: %s: %s", strerror(-r),
			 fx.d.n_msgs ? fx.d.msgs[0].text : "no message");
	else if (fx.des.n_pins != 4 || !map || !prog)
		snprintf(why, sizeof(why), "%zu pins, t/globals/counts %s, t/p0 %s", fx.des.n_pins,
			 map ? "found" : "missing", prog ? "found" : "missing");
	else if (map->spec.type != BPF_MAP_TYPE_ARRAY || map->spec.key_size != 4 ||
		 map->spec.value_size != 8 || map->spec.max_entries != 4)
		snprintf(why, sizeof(why), "map spec %u %u %u %u", map->spec.type,
			 map->spec.key_size, map->spec.value_size, map->spec.max_entries);
	else if (prog->spec.type != BPF_PROG_TYPE_SOCKET_FILTER || prog->spec.has_tag)
		snprintf(why, sizeof(why), "program spec type %u, has_tag %d", prog->spec.type,
			 prog->spec.has_tag);
	else if (!test_under_valgrind()) {
		struct observed obs = found_all(&fx);

		r = identity_load_tags(&fx.des, &obs, NULL, &fx.d);
		free(obs.entries);
		if (r != -EPERM)
			snprintf(why, sizeof(why), "identity_load_tags under the filter returned %d", r);
	}
	done(&fx);
	return why[0] ? why : NULL;
}

START_TEST(test_desired_without_bpf)
{
	char buf[sizeof(why)] = "";
	ssize_t n, len = 0;
	int p[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *msg = deny_bpf() < 0 ? "cannot install the seccomp filter"
						 : offline(objects[_i]);

		close(p[0]);
		if (msg && write(p[1], msg, strlen(msg)) < 0)
			_exit(2);
		_exit(msg ? 1 : 0);
	}
	close(p[1]);
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(p[0], buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: %s (status %#x)",
		      objects[_i], buf, status);
}
END_TEST

/* Objects naming one file share one read of it, but for one that sets a
 * program's type: that changes what it loads. */
START_TEST(test_shared_read)
{
	struct fixture fx;
	char *yaml = NULL;

	ck_assert_int_ge(asprintf(&yaml,
				  "version: 1\nobjects:\n"
				  "  - {file: %1$s/tests/bpf/%2$s.o, name: a, sections: "
				  "[{map: counts, pinning: custom, path: a/counts}, {program: p0, pinning: custom, path: a/p0}]}\n"
				  "  - {file: %1$s/tests/bpf/%2$s.o, name: b, sections: "
				  "[{map: counts, pinning: custom, path: b/counts}, {program: p0, pinning: custom, path: b/p0}]}\n"
				  "  - {file: %1$s/tests/bpf/%2$s.o, name: c, sections: "
				  "[{map: counts, pinning: custom, path: c/counts}, {program: p0, pinning: custom, path: c/p0, type: socket_filter}]}\n"
				  "  - {file: %1$s/tests/bpf/%2$s.o, name: d, sections: "
				  "[{map: counts, pinning: custom, path: d/counts}, {program: p1, pinning: custom, path: d/p1}]}\n",
				  test_builddir(), objects[_i]),
			 0);
	ck_assert_msg(build_yaml(yaml, &fx) == 0, "%s", fx.d.n_msgs ? fx.d.msgs[0].text : "?");
	free(yaml);
	ck_assert_uint_eq(fx.des.n_objfiles, 4);
	ck_assert_ptr_nonnull(fx.des.objfiles[0]);
	ck_assert_ptr_eq(fx.des.objfiles[1], fx.des.objfiles[0]);
	ck_assert_ptr_eq(fx.des.objfiles[3], fx.des.objfiles[0]);
	ck_assert_ptr_ne(fx.des.objfiles[2], fx.des.objfiles[0]);
	ck_assert_uint_eq(fx.des.owner[1], 0);
	ck_assert_uint_eq(fx.des.owner[2], 2);
	ck_assert_uint_eq(fx.des.owner[3], 0);
	ck_assert_uint_eq(fx.des.n_pins, 8);
	ck_assert_ptr_nonnull(pin(&fx, "b/p0"));
	ck_assert_uint_eq(pin(&fx, "b/p0")->objfile_index, 1);
	ck_assert_ptr_eq(pin(&fx, "d/p1")->objfile, fx.des.objfiles[0]);
	done(&fx);
}
END_TEST

/* Whether the test may load programs: not under valgrind (libbpf's
 * probes, test_under_valgrind()), and not without the privilege - a skip
 * said on stderr, a failure under BPF_PROVISION_REQUIRE_ALL=1. */
static bool with_kernel(void)
{
	const char *req = getenv("BPF_PROVISION_REQUIRE_ALL");
	struct diag probe = { 0 };

	if (test_under_valgrind()) {
		fprintf(stderr, "SKIP: identity: tags under valgrind\n");
		return false;
	}
	if (loader_probe(&probe) == 0)
		return true;
	if (req && strcmp(req, "1") == 0)
		ck_abort_msg("identity: %s (BPF_PROVISION_REQUIRE_ALL=1)", probe.msgs[0].text);
	fprintf(stderr, "SKIP: identity: %s\n", probe.msgs[0].text);
	diag_done(&probe);
	return false;
}

/* The control: with the kernel, the same pins get their tags. */
START_TEST(test_tags)
{
	struct fixture fx;
	struct observed obs;
	const struct desired_pin *p0, *p1, *p4;

	if (!with_kernel())
		return;
	ck_assert_int_eq(build(objects[_i], &fx), 0);
	obs = found_all(&fx);
	ck_assert_int_eq(identity_load_tags(&fx.des, &obs, NULL, &fx.d), 0);
	free(obs.entries);
	p0 = pin(&fx, "t/p0");
	p1 = pin(&fx, "t/p1");
	p4 = pin(&fx, "t/p4");
	ck_assert(p0 && p1 && p4);
	ck_assert(p0->spec.has_tag && p1->spec.has_tag && p4->spec.has_tag);
	ck_assert_mem_eq(p0->spec.tag, p4->spec.tag, sizeof(p0->spec.tag));
	ck_assert(memcmp(p0->spec.tag, p1->spec.tag, sizeof(p0->spec.tag)) != 0);
	ck_assert(!pin(&fx, "t/globals/counts")->spec.has_tag);
	ck_assert(!p0->spec.tag_deferred && !p1->spec.tag_deferred);
	done(&fx);
}
END_TEST

/* Nothing pinned where the programs go: the plan creates them whatever
 * their tags, so none is loaded now; the apply's load is their one. */
START_TEST(test_tags_deferred)
{
	struct fixture fx;
	const struct desired_pin *p0, *p1;

	ck_assert_int_eq(build(objects[_i], &fx), 0);
	/* No kernel call: this passes under a filter denying bpf() too. */
	ck_assert_int_eq(identity_load_tags(&fx.des, &(struct observed){ 0 }, NULL, &fx.d), 0);
	p0 = pin(&fx, "t/p0");
	p1 = pin(&fx, "t/p1");
	ck_assert(p0 && p1);
	ck_assert(p0->spec.tag_deferred && p1->spec.tag_deferred);
	ck_assert(!p0->spec.has_tag && !p1->spec.has_tag);
	ck_assert(!pin(&fx, "t/globals/counts")->spec.tag_deferred);
	done(&fx);
}
END_TEST

/* Objects of each owner's layout and feature: libbpf's (CO-RE, global
 * data, maps in maps, subprograms, struct_ops, prog arrays filled by
 * `.values`) and the legacy ones (gobpf, iproute2 with `.text` calls and
 * tail calls). */
static const char *const computed[] = {
	"libbpf_core", "libbpf_minimal", "libbpf_mim",    "libbpf_devmap", "libbpf_struct_ops",
	"tailcall_v2", "contents_btf",   "wired_btf",     "btf",           "attach_cg",
	"gobpf_calls", "iproute2_calls", "tailcall",      "wired_gobpf",
};

/* A computed tag is the kernel's: every program's, against the program
 * loaded alone. */
START_TEST(test_computed_tags)
{
	struct objfile *of = NULL;
	struct diag d = { 0 };
	char path[4096];
	bool *want, *has;
	uint8_t(*tags)[8];
	struct bpf_insn **insns;
	size_t *n_insns, n_want = 0;
	int *fds, bits = 0;

	if (!with_kernel())
		return;
	snprintf(path, sizeof(path), "%s/tests/bpf/%s.o", test_builddir(), computed[_i]);
	ck_assert_int_eq(objfile_open(path, &d, &of), 0);
	want = calloc(of->n_progs + 1, sizeof(*want));
	has = calloc(of->n_progs + 1, sizeof(*has));
	tags = calloc(of->n_progs + 1, sizeof(*tags));
	insns = calloc(of->n_progs + 1, sizeof(*insns));
	n_insns = calloc(of->n_progs + 1, sizeof(*n_insns));
	fds = calloc(of->n_progs + 1, sizeof(*fds));
	ck_assert(want && has && tags && insns && n_insns && fds);
	for (size_t i = 0; i < of->n_progs; i++)
		n_want += want[i] = of->progs[i].type != BPF_PROG_TYPE_UNSPEC;
	ck_assert_uint_gt(n_want, 0);
	/* Computed, not loaded: loader_insns() gives them all. */
	ck_assert_int_eq(loader_insns(of, want, insns, n_insns), 0);
	for (size_t i = 0; i < of->n_progs; i++) {
		ck_assert(!want[i] || (insns[i] && n_insns[i] > 0));
		free(insns[i]);
	}
	ck_assert_int_eq(identity_object_tags(of, &bits, NULL, &d, tags, has), 0);
	ck_assert_int_gt(bits, 0);
	for (size_t i = 0; i < of->n_progs; i++) {
		uint8_t loaded[8];

		if (!want[i])
			continue;
		ck_assert_msg(has[i], "%s: %s has no tag", computed[_i], of->progs[i].name);
		memset(want, 0, of->n_progs * sizeof(*want));
		want[i] = true;
		ck_assert_msg(loader_load(of, &(struct loader_job){ .want = want }, NULL, &d, fds) == 0,
			      "%s: %s: %s", computed[_i], of->progs[i].name,
			      d.n_msgs ? d.msgs[0].text : "?");
		ck_assert_int_eq(kind_prog_tag(fds[i], loaded), 0);
		close(fds[i]);
		ck_assert_msg(memcmp(loaded, tags[i], 8) == 0, "%s: %s: computed tag is not the kernel's",
			      computed[_i], of->progs[i].name);
		for (size_t j = 0; j < of->n_progs; j++)
			want[j] = of->progs[j].type != BPF_PROG_TYPE_UNSPEC;
	}
	free(want);
	free(has);
	free(tags);
	free(insns);
	free(n_insns);
	free(fds);
	objfile_free(of);
	diag_done(&d);
}
END_TEST

/* Where tags cannot be computed (*tag_bits < 0: the digest unknown),
 * export's programs are loaded one at a time: the one the verifier refuses
 * loses its own tag, with a warning, and no other. */
START_TEST(test_object_tags_loaded_alone)
{
	struct objfile *of = NULL;
	struct diag d = { 0 };
	char path[4096];
	uint8_t tags[4][8], loaded[8];
	bool has[4] = { false }, want[4] = { false };
	int fds[4], bits = -1;
	const struct objfile_prog *ok, *bad;

	if (!with_kernel())
		return;
	snprintf(path, sizeof(path), "%s/tests/bpf/reject_mixed.o", test_builddir());
	ck_assert_int_eq(objfile_open(path, &d, &of), 0);
	ok = objfile_prog_by_name(of, "accepted");
	bad = objfile_prog_by_name(of, "reject_btf");
	ck_assert(of->n_progs == 2 && ok && bad && ok < bad);
	ck_assert_int_eq(identity_object_tags(of, &bits, NULL, &d, tags, has), 0);
	ck_assert_int_eq(bits, -1);
	ck_assert(has[ok - of->progs] && !has[bad - of->progs]);
	ck_assert_uint_eq(d.n_msgs, 1);
	ck_assert_ptr_nonnull(strstr(d.msgs[0].text, "program 'reject_btf'"));
	want[ok - of->progs] = true;
	ck_assert_int_eq(loader_load(of, &(struct loader_job){ .want = want }, NULL, &d, fds), 0);
	ck_assert_int_eq(kind_prog_tag(fds[ok - of->progs], loaded), 0);
	close(fds[ok - of->progs]);
	ck_assert_mem_eq(loaded, tags[ok - of->progs], 8);
	objfile_free(of);
	diag_done(&d);
}
END_TEST

Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("kernel-free desired");
	int n = sizeof(objects) / sizeof(objects[0]);

	tcase_add_loop_test(tc, test_desired_without_bpf, 0, n);
	tcase_add_loop_test(tc, test_tags, 0, n);
	tcase_add_loop_test(tc, test_tags_deferred, 0, n);
	tcase_add_loop_test(tc, test_shared_read, 0, n);
	tcase_add_test(tc, test_object_tags_loaded_alone);
	tcase_add_loop_test(tc, test_computed_tags, 0,
			    (int)(sizeof(computed) / sizeof(computed[0])));
	suite_add_tcase(s, tc);
	return s;
}
