#!/usr/bin/env python3
"""layers_test.py — the layering of fteval's sources holds (docs/architecture.md).

Reads harness/layers.txt (the one layer table, also read by CMakeLists.txt) and fails on:
  (a) an #include "..." from a file of one layer into a layer outside its allowed set
      (the table's edges, transitively), or of a header that does not exist;
  (b) an include cycle between modules (x.c and x.h are one module);
  (c) a call cycle between object files, or a call to an fe_ function no library defines: with the built static libraries (FTEVAL_BUILD),
      `nm` gives each object's defined and undefined symbols, and two objects that call each
      other, directly or through others, form a cycle (this finds what a shared private
      header hides, e.g. report.c <-> report_html.c through report_int.h);
  (d) a call from an object into a layer its own layer may not use (the symbol-level twin of
      (a); the per-layer link programs fteval_link_<layer> check the same at build time);
  (e) the simulator being reachable from any layer other than cli (nothing in the core links it);
  (f) a per-layer include tree of the build (build/layers/<layer>, what CMake compiles each
      library against) that resolves a header of a layer the table does not allow, or fails to
      resolve one it allows.
It first checks itself on a synthetic tree with one violation of each kind, so a checker that
silently finds nothing fails too.
"""
import os
import re
import subprocess
import sys
import tempfile

SRC = os.environ.get("FTEVAL_SRC") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("FTEVAL_BUILD")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_layers(path):
    """[(layer, folder, [direct deps])] in file order, and the transitive closure per layer."""
    rows = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        deps = [d for d in f[2:] if d != "-"]
        rows.append((f[0], f[1], deps))
    closure = {}
    for layer, _, deps in rows:
        c = {layer}
        for d in deps:
            if d not in closure:
                raise SystemExit(f"layers.txt: '{layer}' uses '{d}', which is not listed above it")
            c |= closure[d]
        closure[layer] = c
    return rows, closure


# Files outside the layer folders: harness/main.c is the executable (the command table), built
# with the cli layer's include tree. Any other source directly in harness/ is an error.
LOOSE = {"harness/main.c": "cli"}


def layer_of(rel, rows):
    best = LOOSE.get(rel)
    for layer, folder, _ in rows:
        if os.path.dirname(rel) == folder:
            best = layer
    return best


def scan_sources(root, rows):
    """{relpath: [included relpaths]} for every .c/.h of every layer folder."""
    files = {}
    for name in sorted(os.listdir(os.path.join(root, "harness"))):
        rel = f"harness/{name}"
        if name.endswith((".c", ".h")) and os.path.isfile(os.path.join(root, rel)):
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
                files[rel] = INCLUDE.findall(fh.read())
    for _, folder, _ in rows:
        d = os.path.join(root, folder)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith((".c", ".h")):
                rel = f"{folder}/{name}"
                with open(os.path.join(d, name), encoding="utf-8", errors="replace") as fh:
                    files[rel] = INCLUDE.findall(fh.read())
    return files


def check_includes(root, rows, closure, files):
    errors = []
    for rel, incs in files.items():
        me = layer_of(rel, rows)
        if me is None:
            errors.append(f"{rel}: outside every layer folder of harness/layers.txt")
            continue
        for inc in incs:
            if not os.path.exists(os.path.join(root, inc)):
                errors.append(f"{rel}: #include \"{inc}\": no such header (includes are root-relative)")
                continue
            them = layer_of(inc, rows)
            if them is None:
                errors.append(f"{rel}: #include \"{inc}\": not in any layer folder")
            elif them not in closure[me]:
                errors.append(f"{rel} (layer {me}) includes {inc} (layer {them}): {me} may use "
                              f"only {', '.join(sorted(closure[me]))}")
    return errors


def sccs(graph):
    """Tarjan: the strongly connected components with more than one node (or a self loop)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def cycle_path(graph, comp):
    """One concrete cycle inside a strongly connected component: a -> b -> ... -> a."""
    members = set(comp)
    start = comp[0]
    prev, frontier, seen = {}, [start], {start}
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return " -> ".join(reversed(path)) + " -> " + start
                if w in members and w not in seen:
                    seen.add(w)
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return " <-> ".join(comp)


def check_include_cycles(files):
    graph = {}
    for rel, incs in files.items():
        a = os.path.splitext(rel)[0]
        for inc in incs:
            b = os.path.splitext(inc)[0]
            if a != b:
                graph.setdefault(a, set()).add(b)
    return [f"include cycle: {cycle_path(graph, c)}" for c in sccs(graph)]


def nm_objects(libs):
    """{object: (set defined, set undefined)} from `nm -A -g` over static libraries."""
    objs = {}
    for lib in libs:
        out = subprocess.run(["nm", "-A", "-g", lib], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.match(r"^(.*?):([^:]+\.o):\s*(?:[0-9a-fA-F]+)?\s+([A-Za-z])\s+(\S+)$", line)
            if not m:
                continue
            obj = f"{os.path.basename(m.group(1))}:{m.group(2)}"
            d, u = objs.setdefault(obj, (set(), set()))
            (u if m.group(3) == "U" else d).add(m.group(4))
    return objs


def check_symbols(objs, lib_layer, closure):
    """Call cycles between objects, and calls into layers a layer may not use."""
    owner = {}
    for obj, (d, _) in objs.items():
        for s in d:
            owner.setdefault(s, obj)
    graph, errors = {}, []
    for obj, (_, u) in objs.items():
        for s in sorted(u):
            o = owner.get(s)
            if o is None and s.startswith("fe_"):
                errors.append(f"{obj} uses {s}, which no library defines (e.g. only the executable)")
            if o is None or o == obj:
                continue
            graph.setdefault(obj, set()).add(o)
            me, them = lib_layer[obj.split(":")[0]], lib_layer[o.split(":")[0]]
            if them not in closure[me]:
                errors.append(f"{obj} (layer {me}) calls {s} of {o} (layer {them})")
    errors += [f"call cycle: {cycle_path(graph, c)} (strongly connected: {', '.join(c)})"
               for c in sccs(graph)]
    return errors


def check_include_trees(build, rows, closure):
    """The build's per-layer include trees (build/layers/<layer>) resolve exactly the allowed
    layers: one header of every layer is compiled against every tree, and must compile when the
    layer is allowed and fail ("No such file") when it is not."""
    cc = os.environ.get("CC", "cc")
    cflags = subprocess.run(["pkg-config", "--cflags", "libcjson"], capture_output=True,
                            text=True).stdout.split()
    errors = []
    with tempfile.TemporaryDirectory() as t:
        for them, folder, _ in rows:
            header = sorted(n for n in os.listdir(os.path.join(SRC, folder)) if n.endswith(".h"))[0]
            probe = os.path.join(t, f"{them}.c")
            with open(probe, "w") as fh:
                fh.write(f'#include "{folder}/{header}"\nint fe_probe(void);\nint fe_probe(void) {{ return 0; }}\n')
            for me, _, _ in rows:
                tree = os.path.join(build, "layers", me)
                r = subprocess.run([cc, "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-fsyntax-only",
                                    "-I", tree, *cflags, probe], capture_output=True, text=True)
                allowed = them in closure[me]
                if allowed and r.returncode != 0:
                    errors.append(f"include tree of {me}: {folder}/{header} does not compile: "
                                  f"{r.stderr.strip().splitlines()[0] if r.stderr.strip() else r.returncode}")
                elif not allowed and (r.returncode == 0 or "No such file" not in r.stderr):
                    errors.append(f"include tree of {me}: {folder}/{header} (layer {them}) resolves, "
                                  f"but {me} may not use {them}")
    return errors


def check_sim_isolated(rows, closure):
    return [f"layer {layer} may use sim: only cli may (the simulator is no part of the core)"
            for layer, _, _ in rows if layer not in ("sim", "cli") and "sim" in closure[layer]]


def self_test():
    """The checkers find a planted upward include, include cycle, call cycle and upward call."""
    with tempfile.TemporaryDirectory() as t:
        os.makedirs(f"{t}/harness/lo")
        os.makedirs(f"{t}/harness/hi")
        open(f"{t}/layers.txt", "w").write("lo harness/lo -\nhi harness/hi lo\n")
        open(f"{t}/harness/lo/a.h", "w").write('#include "harness/hi/b.h"\n')
        open(f"{t}/harness/lo/a.c", "w").write('#include "harness/lo/a.h"\n')
        open(f"{t}/harness/hi/b.h", "w").write('#include "harness/lo/a.h"\n')
        open(f"{t}/harness/stray.c", "w").write('#include "harness/lo/a.h"\n')
        rows, closure = read_layers(f"{t}/layers.txt")
        files = scan_sources(t, rows)
        inc = check_includes(t, rows, closure, files)
        cyc = check_include_cycles(files)
        assert inc == ["harness/stray.c: outside every layer folder of harness/layers.txt",
                       "harness/lo/a.h (layer lo) includes harness/hi/b.h (layer hi): lo may use only lo"], inc
        assert cyc == ["include cycle: harness/hi/b -> harness/lo/a -> harness/hi/b"], cyc
        assert layer_of("harness/main.c", rows) == "cli"
    objs = {"liblo.a:a.c.o": ({"fa"}, {"fb"}), "libhi.a:b.c.o": ({"fb"}, {"fa", "fe_main_only"})}
    got = check_symbols(objs, {"liblo.a": "lo", "libhi.a": "hi"}, {"lo": {"lo"}, "hi": {"hi", "lo"}})
    assert got == ["liblo.a:a.c.o (layer lo) calls fb of libhi.a:b.c.o (layer hi)",
                   "libhi.a:b.c.o uses fe_main_only, which no library defines (e.g. only the executable)",
                   "call cycle: libhi.a:b.c.o -> liblo.a:a.c.o -> libhi.a:b.c.o "
                   "(strongly connected: libhi.a:b.c.o, liblo.a:a.c.o)"], got
    assert check_sim_isolated([("x", "harness/x", ["sim"]), ("sim", "harness/sim", [])],
                              {"x": {"x", "sim"}, "sim": {"sim"}}) != []


def main():
    self_test()
    rows, closure = read_layers(os.path.join(SRC, "harness/layers.txt"))
    files = scan_sources(SRC, rows)
    errors = check_includes(SRC, rows, closure, files)
    errors += check_include_cycles(files)
    errors += check_sim_isolated(rows, closure)
    n_objs = 0
    if BUILD:
        libs = {f"libfteval_{layer}.a": layer for layer, _, _ in rows}
        missing = [l for l in libs if not os.path.exists(os.path.join(BUILD, l))]
        if missing:
            errors.append(f"{BUILD}: missing {', '.join(missing)} (one static library per layer)")
        else:
            errors += check_include_trees(BUILD, rows, closure)
            objs = nm_objects([os.path.join(BUILD, l) for l in libs])
            n_objs = len(objs)
            errors += check_symbols(objs, libs, closure)
    elif os.environ.get("CI"):
        errors.append("FTEVAL_BUILD is not set: the symbol checks need the built libraries")
    else:
        print("layers_test: FTEVAL_BUILD not set: symbol checks skipped", file=sys.stderr)
    n_inc = sum(len(v) for v in files.values())
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"layers_test: {len(errors)} violation(s)", file=sys.stderr)
        return 1
    print(f"layers_test: {len(rows)} layers, {len(files)} files, {n_inc} includes, {n_objs} objects, "
          f"{len(rows) ** 2 if n_objs else 0} include-tree probes: no upward include or call, "
          "no include or call cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
