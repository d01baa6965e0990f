"""The documentation against the program, and the examples that are not
Harness pipelines.

The options are those `ecsfs --help` prints; the files are the entries of
the tables in fs/tree.c.  The README's option table and tree, and the man
page's OPTIONS and FILES, must name every one of them with its default and
its kind (rw, w, unlisted, symlink), so that an option or a file added
without its documentation fails here.  The man page must render without a
warning and be installed by `meson install`.  The fstab line, the systemd
unit and the cron file are run for real against the emulator.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.mount import binary, build_dir, is_mounted

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MAN = REPO / "docs" / "ecsfs.1"
TABLE_DIRS = {  # fs/tree.c table -> README tree section, man page subsection
    "meta_files": (".ecsfs/", ".ecsfs/"),
    "cluster_files": ("CLUSTER/", "CLUSTER/"),
    "service_files": ("services/SERVICE/", "CLUSTER/services/SERVICE/"),
    "autoscaling_files": ("autoscaling/", "CLUSTER/services/SERVICE/autoscaling/"),
    "task_files": ("tasks/TASK_ID/", "CLUSTER/tasks/TASK_ID/"),
    "instance_files": ("container_instances/ID/", "CLUSTER/container_instances/ID/"),
}
# Folders whose entries ECS names (no table): README tree section, man page
# subsection, the word that stands for an entry.
NAMED_BY_ECS = {
    ("task_files", "logs"): ("logs/", "CLUSTER/tasks/TASK_ID/logs/", "CONTAINER"),
}


def needs(tool, what):
    if os.environ.get("CI") == "true":
        pytest.fail("%s is missing (%s); CI must provide it" % (tool, what))
    pytest.skip("%s is missing (%s)" % (tool, what))


# -- what the program has ---------------------------------------------------------

def help_text():
    r = subprocess.run([str(binary()), "--help"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0
    return r.stdout


def help_section(text, title):
    """The lines of one section of --help, from its title to the next blank line."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    out = []
    for line in lines[start:]:
        if not line.strip() or not line.startswith(" "):
            break
        out.append(line)
    return out


def help_options():
    """{name: (ARG or None, default or "")} of the "ecsfs options:" section."""
    opts = {}
    last = None
    for line in help_section(help_text(), "ecsfs options:"):
        m = re.match(r"^\s{4}-o (\w+)(?:=(\S+))?", line)
        if m:
            last = m.group(1)
            opts[last] = [m.group(2), ""]
        d = re.search(r"\(default: ([^)]*)\)$", line)
        if d:
            opts[last][1] = d.group(1)
    return {k: tuple(v) for k, v in opts.items()}


def help_fuse_options():
    """The left column of the "FUSE options" section: "-f", "-o allow_other", ..."""
    text = help_text()
    title = [l for l in text.splitlines() if l.startswith("FUSE options")][0]
    return [re.match(r"^\s{4}(\S.*?)(\s{2,}|$)", l).group(1)
            for l in help_section(text, title)]


def tree_tables():
    """{table: [(name, writable, writeonly, unlisted, symlink)]} from fs/tree.c."""
    src = (REPO / "fs" / "tree.c").read_text()
    tables = {}
    for name, body in re.findall(r"static const struct fs_file (\w+)\[\] = \{(.*?)\n\};",
                                 src, re.S):
        rows = re.findall(r'\{\s*"([^"]+)",\s*(\w+),\s*([^,]+?),\s*([^,]+?),\s*(\w+),'
                          r'\s*(\w+)\s*\}', body)
        assert len(rows) == body.count('{ "'), "%s has rows this test cannot read" % name
        tables[name] = [(r[0], r[5] != "NULL", "FS_F_WRITEONLY" in r[2],
                         "FS_F_UNLISTED" in r[2], "FS_F_SYMLINK" in r[2]) for r in rows]
    assert set(tables) == set(TABLE_DIRS), sorted(tables)
    return tables


def tree_subdirs():
    """{table: [subfolder, ...]} from fs/tree.c: the fixed subfolders of fs_dirs[],
    and those of fs_subdirs[] that an object may have (autoscaling/)."""
    src = (REPO / "fs" / "tree.c").read_text()
    kinds = {"FS_CLUSTER": "cluster_files", "FS_SERVICE": "service_files",
             "FS_TASK": "task_files", "FS_INSTANCE": "instance_files"}
    out = {t: [] for t in TABLE_DIRS}
    for kind, names in re.findall(r"\[(FS_\w+)\] = \{ \{ ([^}]*)\}", src):
        subs = re.findall(r'"(\w+)"', names)
        if subs:
            out[kinds[kind]] += subs
    body = re.search(r"fs_subdirs\[\] = \{(.*?)\n\};", src, re.S)
    if body:
        for kind, name in re.findall(r'\{ (FS_\w+), "(\w+)", FS_\w+ \}', body.group(1)):
            out[kinds[kind]].append(name)
    assert out["cluster_files"] == ["services", "tasks", "container_instances"]
    return out


def named_by_ecs(subdirs):
    """The NAMED_BY_ECS folders that fs/tree.c has."""
    return {k: v for k, v in NAMED_BY_ECS.items() if k[1] in subdirs[k[0]]}


def kind_mark(writable, writeonly, unlisted, symlink):
    """What the docs must say after a file's name."""
    if unlisted:
        return "unlisted"
    if symlink:
        return "symlink"
    if writable:
        return "w" if writeonly else "rw"
    return None


def check_entries(where, entries, table, subdirs):
    """entries: {name: parenthesis after it or None}, as documented in one folder."""
    for name, writable, writeonly, unlisted, symlink in table:
        assert name in entries, "%s does not document %s" % (where, name)
        want = kind_mark(writable, writeonly, unlisted, symlink)
        got = entries[name]
        if want in ("w", "rw"):
            assert got == want, "%s: %s should be marked (%s), is (%s)" % (where, name, want, got)
        elif want:
            assert got and got.startswith(want), "%s: %s is %s" % (where, name, want)
        else:
            assert got not in ("w", "rw", "unlisted"), "%s: %s is read-only" % (where, name)
    for sub in subdirs:
        assert sub + "/" in entries, "%s does not document the folder %s/" % (where, sub)


# -- the README ------------------------------------------------------------------------

def readme_options():
    rows = re.findall(r"^\| `-o (\w+)(?:=([\w:]+))?` \|\s*([^|]*?)\s*\|", README.read_text(),
                      re.M)
    return {n: (a or None, d) for n, a, d in rows}


def test_readme_option_table_is_ecsfs_help():
    assert readme_options() == help_options()


def readme_tree():
    """{section: {name: parenthesis or None}} of the README's tree block."""
    text = README.read_text()
    block = text.split("## The tree", 1)[1].split("```", 2)[1]
    sections = {}
    current = None
    for line in block.splitlines():
        m = re.search(r"── (\S+/)\s*(.*)$", line)
        if m:
            current = m.group(1)
            sections[current] = ""
            rest = m.group(2)
        elif current is None:
            continue
        else:
            rest = line.replace("│", " ")
        sections[current] += " " + rest
    out = {}
    for sec, text in sections.items():
        out[sec] = {name: paren for name, paren in
                    re.findall(r"([\w.]+/?)(?:\s*\(([^)]*)\))?", text)}
    return out


def test_readme_tree_names_every_file():
    tree = readme_tree()
    subdirs = tree_subdirs()
    for table, rows in tree_tables().items():
        section = TABLE_DIRS[table][0]
        assert section in tree, "the README tree has no %s" % section
        entries = dict(tree[section])
        if table == "cluster_files":
            entries.update({s: None for s in ("services/", "tasks/", "container_instances/")
                            if any(k.startswith(s) for k in tree)})
        check_entries("README " + section, entries, rows, subdirs[table])
    for section, _, word in named_by_ecs(subdirs).values():
        assert word in tree.get(section, {}), "the README tree's %s lacks %s" % (section, word)


def test_readme_and_docs_name_only_files_that_exist():
    texts = [README] + sorted((REPO / "docs").glob("*.md"))
    for doc in texts:
        for path in re.findall(r"(?<![\w/.-])((?:examples|docs|tests)/[\w./@-]*[\w/])",
                               doc.read_text()):
            assert (REPO / path).exists(), "%s names %s, which does not exist" % (doc.name, path)


# -- the man page --------------------------------------------------------------------------

ROFF_ARG = re.compile(r'"((?:[^"]|"")*)"|(\S+)')


def unescape(text):
    text = re.sub(r"\\f[BIRP]|\\f\(\w\w|\\&|\\:", "", text)
    for esc, plain in (("\\-", "-"), ("\\(dq", '"'), ("\\(->", "->"), ("\\ ", " "),
                       ("\\e", "\\")):
        text = text.replace(esc, plain)
    return text


def roff_text(line):
    """The text of one line of man(7) source (font macros joined as groff does)."""
    if not line.startswith("."):
        return unescape(line)
    m = re.match(r"^\.(B|I|SM|SB|BI|BR|IB|IR|RB|RI)(?:\s+(.*))?$", line)
    if not m:
        return ""
    args = []
    for x in ROFF_ARG.finditer(m.group(2) or ""):
        args.append(x.group(1).replace('""', '"') if x.group(1) is not None else x.group(2))
    joiner = " " if m.group(1) in ("B", "I", "SM", "SB") else ""
    return unescape(joiner.join(args))


def man_sections():
    """{(SH, SS): [(tags, body text)]} of the man page's tagged paragraphs."""
    out = {}
    sh = ss = None
    lines = MAN.read_text().splitlines()
    i = 0
    entry = None
    while i < len(lines):
        line = lines[i]
        if line.startswith(".SH "):
            sh, ss, entry = line[4:].strip('"'), None, None
        elif line.startswith(".SS "):
            ss, entry = line[4:].strip('"'), None
        elif line in (".TP", ".TQ"):
            i += 1
            tag = roff_text(lines[i]).strip()
            if line == ".TP" or entry is None:
                entry = ([tag], [])
                out.setdefault((sh, ss), []).append(entry)
            else:
                entry[0].append(tag)
        elif entry is not None and not line.startswith(".\\\""):
            entry[1].append(roff_text(line))
        i += 1
    return {k: [(tags, re.sub(r"\s+", " ", " ".join(body)).strip()) for tags, body in v]
            for k, v in out.items()}


def test_man_page_documents_every_option_with_default_example_errors():
    sections = man_sections()
    entries = {}
    for tags, body in sections[("OPTIONS", "ecsfs options")]:
        for tag in tags:
            entries[tag] = body
    for name, (arg, default) in help_options().items():
        tag = "-o %s=%s" % (name, arg) if arg else "-o %s" % name
        assert tag in entries, "the man page has no entry %r" % tag
        body = entries[tag]
        m = re.search(r"Default: (\S+)", body)
        assert m, "%s: no Default:" % tag
        assert m.group(1).rstrip(".;,") == (default or "none"), (tag, body)
        assert "Example:" in body and "Errors:" in body, (tag, body)
    assert len(entries) == len(help_options()), sorted(set(entries) - {
        "-o %s" % n for n in help_options()})
    fuse = [t for tags, _ in sections[("OPTIONS", "FUSE options")] for t in tags]
    for opt in help_fuse_options():
        assert opt in fuse, "the man page's FUSE options lack %r" % opt


def test_man_page_documents_every_file_with_example_and_errors():
    sections = man_sections()
    subdirs = tree_subdirs()
    for table, rows in tree_tables().items():
        key = ("FILES", TABLE_DIRS[table][1])
        assert key in sections, "the man page has no subsection %s" % key[1]
        entries = {}
        for tags, body in sections[key]:
            assert "Example:" in body and "Errors:" in body, (tags, body)
            for tag in tags:
                m = re.match(r"^(\S+)(?:\s+\(([^)]*)\))?$", tag)
                assert m, "odd tag %r" % tag
                entries[m.group(1)] = m.group(2)
        check_entries("man page " + key[1], entries, rows, subdirs[table])
    for _, subsection, word in named_by_ecs(subdirs).values():
        key = ("FILES", subsection)
        assert key in sections, "the man page has no subsection %s" % subsection
        tags = [t for tags, body in sections[key] for t in tags]
        assert word in tags, (subsection, tags)
        for tags, body in sections[key]:
            assert "Example:" in body and "Errors:" in body, (tags, body)


def test_man_page_renders_without_warnings():
    if shutil.which("groff") is None:
        needs("groff", "install groff-base with tests/deps.sh")
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN)], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run(["groff", "-man", "-Tascii", "-P-c", "-P-b", "-P-u", str(MAN)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "ERRORS",
                    "ENVIRONMENT", "EXIT STATUS", "EXAMPLES"):
        assert re.search(r"^%s$" % heading, r.stdout, re.M), heading
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", str(MAN)], capture_output=True,
                           text=True, env=dict(os.environ, MANWIDTH="80", MANPAGER="cat",
                                               PAGER="cat", LC_ALL="C.UTF-8"))
        assert r.returncode == 0 and r.stderr == "", r.stderr


def test_meson_install_installs_the_man_page(tmp_path):
    r = subprocess.run(["meson", "install", "-C", str(build_dir()), "--no-rebuild",
                        "--destdir", str(tmp_path), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    pages = list(tmp_path.rglob("man1/ecsfs.1"))
    assert len(pages) == 1, list(tmp_path.rglob("*"))
    assert pages[0].read_text() == MAN.read_text()
    assert list(tmp_path.rglob("bin/ecsfs"))


# -- fstab, systemd, cron -----------------------------------------------------------------

MOUNT_ONLY = re.compile(r"^(noauto|auto|_netdev|nofail|user|users|nouser|defaults|"
                        r"x-[\w.-]+(=.*)?)$")


def check_options(options):
    """Every option is mount(8)'s, a FUSE one, or one of ecsfs --help's."""
    known = help_options()
    for o in options.split(","):
        if not MOUNT_ONLY.match(o):
            name = o.split("=", 1)[0]
            assert name in known or name in ("allow_other", "auto_unmount", "ro"), \
                "unknown option %s" % o


def mount_like_mount8(what, options, mnt, emulator):
    """Mounts through mount(8) and mount.fuse3 with the given fstab-style options.

    mount(8) runs helpers with a fixed PATH, so the uninstalled binary is named
    the way mount.fuse3 allows for it: type "fuse", source "PROGRAM#SOURCE".
    """
    opts = [o if not o.startswith("region=") else "region=%s" % emulator.region
            for o in options.split(",")]
    env = emulator.env()
    return subprocess.run(["mount", "-t", "fuse", "%s#%s" % (binary(), what), str(mnt),
                           "-o", ",".join(opts)], env=env, capture_output=True, text=True,
                          timeout=30)


def check_mounted(mnt, emulator, options):
    try:
        assert is_mounted(mnt)
        assert sorted(os.listdir(mnt)) == [".ecsfs", "development-cluster",
                                           "production-cluster"]
        assert (mnt / ".ecsfs" / "region").read_text() == emulator.region + "\n"
        line = [l for l in open("/proc/self/mountinfo") if " %s " % mnt in l][0]
        assert " - fuse.ecsfs ecsfs " in line
        if "allow_other" in options.split(","):
            assert "allow_other" in line
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)


def fstab_line():
    lines = [l for l in (REPO / "examples" / "fstab").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    assert len(lines) == 1
    return lines[0].split()


def test_fstab_line_mounts(emulator, tmp_path):
    fields = fstab_line()
    assert len(fields) == 6
    spec, point, vfstype, options, freq, passno = fields
    assert (spec, vfstype, freq, passno) == ("ecsfs", "fuse.ecsfs", "0", "0")
    assert point.startswith("/") and "noauto" in options.split(",")
    check_options(options)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = mount_like_mount8(spec, options, mnt, emulator)
    assert r.returncode == 0, r.stderr
    check_mounted(mnt, emulator, options)


def unit_settings(path):
    sections = {}
    current = None
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            current = m.group(1)
            continue
        key, _, value = line.partition("=")
        sections.setdefault(current, []).append((key, value))
    return sections


def test_systemd_mount_unit(emulator, tmp_path):
    unit = REPO / "examples" / "systemd" / "mnt-ecs.mount"
    s = unit_settings(unit)
    mount = dict(s["Mount"])
    assert mount["What"] == "ecsfs" and mount["Type"] == "fuse.ecsfs"
    # A mount unit is named after its mount point.
    assert unit.stem == mount["Where"].strip("/").replace("-", "\\x2d").replace("/", "-")
    assert "network-online.target" in dict(s["Unit"])["After"]
    assert dict(s["Install"])["WantedBy"] == "multi-user.target"
    check_options(mount["Options"])
    if shutil.which("systemd-analyze"):
        man = tmp_path / "man" / "man1"
        man.mkdir(parents=True)
        shutil.copy(MAN, man / "ecsfs.1")  # Documentation=man:ecsfs(1) must resolve
        r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                           text=True, env=dict(os.environ, MANPATH=str(tmp_path / "man")))
        assert r.returncode == 0 and r.stdout + r.stderr == "", r.stdout + r.stderr
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = mount_like_mount8(mount["What"], mount["Options"], mnt, emulator)
    assert r.returncode == 0, r.stderr
    check_mounted(mnt, emulator, mount["Options"])


def cron_jobs():
    jobs = []
    for line in (REPO / "examples" / "cron" / "ecsfs-after-hours").read_text().splitlines():
        if not line.strip() or line.startswith("#") or re.match(r"^\w+=", line):
            continue
        f = line.split(None, 6)
        jobs.append((f[:5], f[5], f[6]))
    return jobs


def cron_field_ok(field, lo, hi):
    for part in field.split(","):
        if part == "*":
            continue
        m = re.match(r"^(\d+)(?:-(\d+))?$", part)
        if not m or not lo <= int(m.group(1)) <= hi or \
                (m.group(2) and not int(m.group(1)) <= int(m.group(2)) <= hi):
            return False
    return True


def test_cron_file_runs_the_after_hours_script(mount, emulator, tmp_path):
    jobs = cron_jobs()
    assert [cmd.split()[1] for _, _, cmd in jobs] == ["down", "up"]
    for times, user, cmd in jobs:
        assert user == "root"
        for field, (lo, hi) in zip(times, [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]):
            assert cron_field_ok(field, lo, hi), times
    (down_t, _, down), (up_t, _, up) = jobs
    assert int(down_t[1]) > int(up_t[1])  # down in the evening, up in the morning
    state = tmp_path / "counts"
    for cmd in (down, up):
        run, _, log = cmd.partition("|")
        assert log.split()[0] == "logger"
        argv = run.split()
        assert argv[0] == "/usr/local/share/ecsfs/after-hours.sh" and argv[2] == "/mnt/ecs"
        argv[0] = str(REPO / "examples" / "after-hours.sh")
        argv[2] = str(mount.path)
        r = subprocess.run(argv + [str(state)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        desired = {s: v["desired"] for s, v in
                   emulator.state(argv[3])["services"].items()}
        if argv[1] == "down":
            assert desired == {"api": 0, "web": 0}
            assert state.read_text() == "api 1\nweb 1\n"
        else:
            assert desired == {"api": 1, "web": 1}
