// SPDX-License-Identifier: MIT
/* Loader: objfile -> kernel objects.  Legacy objects (gobpf, iproute2, none)
 * get bpf_map_create() and bpf_prog_load() with their ld_imm64 map
 * relocations patched to map fds; BTF objects go through libbpf's object
 * loader, which owns their relocations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cleanup.h"
#include "loader.h"

static bool is_map_in_map(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

/* The kernel keeps 15 bytes of a name, and only [A-Za-z0-9_.]. */
static void kernel_name(const char *name, char out[16])
{
	size_t o = 0;

	for (; *name && o < 15; name++)
		if ((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
		    (*name >= '0' && *name <= '9') || *name == '_' || *name == '.')
			out[o++] = *name;
	out[o] = '\0';
}

static int create_map(const struct objfile *of, size_t i, const char *pin, int depth,
		      struct sys *sys, struct diag *d, int *ret_fd)
{
	const struct objfile_map *m = &of->maps[i];
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = m->flags);
	_cleanup_close_ int inner_fd = -1;
	char name[16];
	int fd, err;

	if (is_map_in_map(m->type)) {
		if (m->inner_map < 0 || depth > 0)
			return diag_error(d, &(struct diag_loc){ .file = of->path },
					  "map '%s': map-in-map without a usable inner map", m->name);
		err = create_map(of, (size_t)m->inner_map, pin, depth + 1, sys, d, &inner_fd);
		if (err < 0)
			return err;
		opts.inner_map_fd = inner_fd;
	}
	kernel_name(m->name, name);
	err = sys_step(sys);
	fd = err ? -1 : bpf_map_create(m->type, name, m->key_size, m->value_size, m->max_entries,
				       &opts);
	if (fd < 0) {
		err = err ?: -errno;
		diag_error(d, &(struct diag_loc){ .file = of->path },
			   "map '%s'%s%s: the kernel refused to create it: %s", m->name,
			   pin ? " for pin " : "", pin ? pin : "", strerror(-err));
		return err;
	}
	*ret_fd = fd;
	return 0;
}

int loader_create_map(const struct objfile *of, size_t i, const char *pin, struct sys *sys,
		      struct diag *d, int *ret_fd)
{
	return create_map(of, i, pin, 0, sys, d, ret_fd);
}

/* The verifier log's last lines say why; one line of it is enough for a message. */
static const char *log_reason(char *log)
{
	char *end = log + strlen(log);

	while (end > log && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	end = strrchr(log, '\n');
	return end ? end + 1 : log;
}

static int load_legacy_prog(const struct objfile *of, size_t pi, const int *map_fds,
			    struct sys *sys, struct diag *d, int *ret_fd)
{
	const struct objfile_prog *p = &of->progs[pi];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .kern_version = of->kern_version,
		    .expected_attach_type = p->expected_attach);
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_free_ char *log = NULL;
	char name[16];
	int fd, err;

	insns = malloc((p->n_insns ? p->n_insns : 1) * sizeof(*insns));
	log = calloc(1, 64 * 1024);
	if (!insns || !log)
		return -ENOMEM;
	memcpy(insns, p->insns, p->n_insns * sizeof(*insns));
	for (size_t r = 0; r < p->n_relocs; r++) {
		struct bpf_insn *insn = &insns[p->relocs[r].insn];

		insn->src_reg = BPF_PSEUDO_MAP_FD;
		insn->imm = map_fds[p->relocs[r].map];
	}
	opts.log_buf = log;
	opts.log_size = 64 * 1024;
	opts.log_level = 0;
	kernel_name(p->name, name);
	err = sys_step(sys);
	fd = err ? -1
		 : bpf_prog_load(p->type, name, of->license ? of->license : "", insns, p->n_insns,
				 &opts);
	if (fd < 0) {
		err = err ?: -errno;
		diag_error(d, &(struct diag_loc){ .file = of->path },
			   "program '%s': the kernel refused to load it: %s%s%s", p->name,
			   strerror(-err), *log ? ": " : "", log_reason(log));
		return err;
	}
	*ret_fd = fd;
	return 0;
}

static int load_legacy(const struct objfile *of, const bool *want, const int *map_fds,
		       struct sys *sys, struct diag *d, int *prog_fds)
{
	_cleanup_free_ int *fds = calloc(of->n_maps + 1, sizeof(int));
	_cleanup_free_ bool *own = calloc(of->n_maps + 1, sizeof(bool));
	int err = 0;

	if (!fds || !own)
		return -ENOMEM;
	for (size_t i = 0; i < of->n_maps; i++)
		fds[i] = map_fds ? map_fds[i] : -1;
	/* Throwaway maps only for what a wanted program references. */
	for (size_t pi = 0; pi < of->n_progs && !err; pi++)
		for (size_t r = 0; want[pi] && r < of->progs[pi].n_relocs && !err; r++) {
			size_t m = of->progs[pi].relocs[r].map;

			if (fds[m] >= 0)
				continue;
			err = loader_create_map(of, m, NULL, sys, d, &fds[m]);
			own[m] = err == 0;
		}
	for (size_t pi = 0; pi < of->n_progs; pi++) {
		prog_fds[pi] = -1;
		if (want[pi] && !err)
			err = load_legacy_prog(of, pi, fds, sys, d, &prog_fds[pi]);
	}
	for (size_t i = 0; i < of->n_maps; i++)
		if (own[i])
			close(fds[i]);
	if (err < 0)
		for (size_t pi = 0; pi < of->n_progs; pi++)
			if (prog_fds[pi] >= 0) {
				close(prog_fds[pi]);
				prog_fds[pi] = -1;
			}
	return err;
}

static int load_btf(const struct objfile *of, const bool *want, const int *map_fds,
		    struct sys *sys, struct diag *d, int *prog_fds)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err = 0;

	obj = bpf_object__open_file(of->path, NULL);
	if (!obj) {
		err = -errno;
		return diag_error(d, &(struct diag_loc){ .file = of->path },
				  "libbpf cannot open the object: %s", strerror(-err)),
		       err;
	}
	bpf_object__for_each_map(map, obj) {
		const struct objfile_map *m = objfile_map_by_name(of, bpf_map__name(map));

		/* libbpf would pin LIBBPF_PIN_BY_NAME maps itself: pinning is ours. */
		bpf_map__set_pin_path(map, NULL);
		if (m && map_fds && map_fds[m - of->maps] >= 0 &&
		    (err = bpf_map__reuse_fd(map, map_fds[m - of->maps])) < 0) {
			diag_error(d, &(struct diag_loc){ .file = of->path },
				   "map '%s': cannot reuse the pinned map: %s", m->name,
				   strerror(-err));
			goto out;
		}
	}
	bpf_object__for_each_program(prog, obj) {
		const struct objfile_prog *p = objfile_prog_by_name(of, bpf_program__name(prog));

		bpf_program__set_autoload(prog, p && want[p - of->progs]);
	}
	err = sys_step(sys) ?: bpf_object__load(obj);
	if (err < 0) {
		diag_error(d, &(struct diag_loc){ .file = of->path },
			   "the kernel refused to load the object: %s", strerror(-err));
		goto out;
	}
	for (size_t pi = 0; pi < of->n_progs; pi++) {
		prog_fds[pi] = -1;
		if (!want[pi])
			continue;
		prog = bpf_object__find_program_by_name(obj, of->progs[pi].name);
		prog_fds[pi] = prog ? dup(bpf_program__fd(prog)) : -1;
		if (prog_fds[pi] < 0) {
			err = prog ? -errno : -ENOENT;
			diag_error(d, &(struct diag_loc){ .file = of->path },
				   "program '%s': not loaded", of->progs[pi].name);
			for (size_t k = 0; k < pi; k++)
				if (prog_fds[k] >= 0)
					close(prog_fds[k]);
			goto out;
		}
	}
out:
	bpf_object__close(obj);
	return err;
}

int loader_load_programs(const struct objfile *of, const bool *want, const int *map_fds,
			 struct sys *sys, struct diag *d, int *prog_fds)
{
	for (size_t pi = 0; pi < of->n_progs; pi++)
		prog_fds[pi] = -1;
	if (of->layout == OBJFILE_LAYOUT_BTF)
		return load_btf(of, want, map_fds, sys, d, prog_fds);
	return load_legacy(of, want, map_fds, sys, d, prog_fds);
}

int loader_probe(struct diag *d)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	int err;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = -errno;
	return diag_error(d, NULL,
			  "the kernel refuses to create BPF objects for this process (%s): "
			  "plan and apply need CAP_BPF (run them as root)",
			  strerror(-err)),
	       err;
}
