#!/usr/bin/env python3
"""Every #include goes down the layers (docs/design.md, "Layout").

The library's layers, lowest first: core, syntax, codec, session, advice;
then asio (drivers/ and include/sansmtp/asio/) and the CLI (tools/). A file
of a layer may include the public headers (<sansmtp/LAYER/...>) of its own
layer and of the layers below it, and nothing above. The drivers and the CLI
may include any public header of the library and no internal one: a path
into src/, or an internal header by its bare name. Private headers of a
layer ("ascii.hpp") are kept from upper layers by the include path of each
layer's object library (CMakeLists.txt); this script checks what the
include path cannot: the public headers, which share one root.

usage: check_layers.py SOURCE_DIR      -> exit 1 listing every upward include
       check_layers.py --self-test     -> shows that an upward include fails
"""
import pathlib
import re
import sys
import tempfile

LAYERS = ["core", "syntax", "codec", "session", "advice", "asio", "tools"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def layer_of(root, path):
    rel = path.relative_to(root).parts
    if rel[0] == "src" and len(rel) > 2 and rel[1] in RANK:
        return rel[1]
    if rel[:2] == ("include", "sansmtp") and len(rel) > 3 and rel[2] in RANK:
        return rel[2]
    if rel[0] == "drivers":
        return "asio"
    if rel[0] == "tools":
        return "tools"
    return None


def private_headers(root):
    return {p.name for p in (root / "src").rglob("*.hpp")}


def problems(root):
    root = pathlib.Path(root)
    internal = private_headers(root)
    local_tools = {p.name for p in (root / "tools").glob("*.hpp")}
    found = []
    files = [p for d in ("src", "include", "drivers", "tools") for p in (root / d).rglob("*") if p.suffix in (".cpp", ".hpp")]
    for path in sorted(files):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("include/sansmtp/") and path.parent == root / "include" / "sansmtp":
            if path.name != "sansmtp.hpp":
                found.append(f"{rel}: a public header outside the layer folders (include/sansmtp/LAYER/)")
            continue
        layer = layer_of(root, path)
        if layer is None:
            found.append(f"{rel}: in no layer folder")
            continue
        for m in INCLUDE.finditer(path.read_text()):
            kind, target = m.group(1), m.group(2)
            line = path.read_text().count("\n", 0, m.start()) + 1
            if target.startswith("sansmtp/"):
                parts = target.split("/")
                if target == "sansmtp/sansmtp.hpp":
                    if RANK[layer] < RANK["asio"]:
                        found.append(f"{rel}:{line}: the umbrella header includes every layer")
                    continue
                if len(parts) < 3 or parts[1] not in RANK:
                    found.append(f"{rel}:{line}: <{target}> is in no layer folder")
                elif RANK[parts[1]] > RANK[layer]:
                    found.append(f"{rel}:{line}: <{target}> is in layer {parts[1]}, above {layer}")
            elif "src/" in target:
                found.append(f"{rel}:{line}: includes {target}: a path into src/")
            elif kind == '"' and layer in ("asio", "tools") and target in internal and target not in local_tools:
                found.append(f"{rel}:{line}: includes the internal header {target}")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        for d in ("src/syntax", "src/session", "include/sansmtp/syntax", "include/sansmtp/session", "drivers", "tools"):
            (root / d).mkdir(parents=True)
        (root / "src/session/ok.cpp").write_text("#include <sansmtp/syntax/a.hpp>\n")
        (root / "include/sansmtp/syntax/a.hpp").write_text("#pragma once\n")
        if problems(root):
            sys.exit(f"self-test: a downward include was refused: {problems(root)}")
        (root / "include/sansmtp/syntax/up.hpp").write_text("#include <sansmtp/session/server.hpp>\n")
        (root / "src/syntax/utf8.hpp").write_text("#pragma once\n")
        (root / "tools/cli.cpp").write_text('#include "utf8.hpp"\n#include "../src/syntax/utf8.hpp"\n')
        found = problems(root)
        want = ["include/sansmtp/syntax/up.hpp:1: <sansmtp/session/server.hpp> is in layer session, above syntax",
                "tools/cli.cpp:1: includes the internal header utf8.hpp",
                "tools/cli.cpp:2: includes ../src/syntax/utf8.hpp: a path into src/"]
        if sorted(found) != sorted(want):
            sys.exit("self-test: expected\n  " + "\n  ".join(want) + "\ngot\n  " + "\n  ".join(found))
    print("check_layers self-test: upward and internal includes are refused")


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    found = problems(sys.argv[1])
    if found:
        print("An #include goes up the layers (docs/design.md, \"Layout\"):", file=sys.stderr)
        for f in found:
            print("  " + f, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
