#!/usr/bin/env python3
"""Extracts every C++ example of README.md, docs/*.md and the public headers,
so that the build compiles them (issue 10: every code example compiles in a
test).

- README.md and docs/*.md: each ```cpp block. One with `int main(` is a
  program (built and run by ctest); any other is declarations at namespace
  scope.
- include/sansmtp/**/*.hpp (any depth): each block between a comment line
  `//   ```cpp` and `//   ```` (the comment markers are stripped);
  declarations too.

Generated names come from the file's path and the block's line
(docs/client.md line 40 -> docs_client_md_40), so they are unique across
files; a clash is an error.

usage: extract_examples.py SOURCE_DIR OUT_DIR   -> writes OUT_DIR/*.cpp and
OUT_DIR/examples.cmake (lists EXAMPLE_PROGRAMS and EXAMPLE_SNIPPETS).
"""
import pathlib
import re
import sys

PRELUDE = """// Extracted from {origin} by tests/examples/extract_examples.py: do not edit.
#include <sansmtp/sansmtp.hpp>

#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>
"""


def markdown_blocks(text):
    for m in re.finditer(r"^```cpp\n(.*?)^```", text, flags=re.S | re.M):
        yield text.count("\n", 0, m.start()) + 1, m.group(1)


def header_blocks(text):
    lines = text.split("\n")
    block, start = None, 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if block is None and stripped == "//   ```cpp":
            block, start = [], number
        elif block is not None and stripped == "//   ```":
            yield start, "\n".join(block) + "\n"
            block = None
        elif block is not None:
            block.append(re.sub(r"^\s*//( {0,3})?", "", line, count=1))
    if block is not None:
        raise SystemExit(f"unterminated ```cpp block at line {start}")


def main():
    source, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    programs, snippets, asio_snippets = [], [], []
    pages = [source / "README.md"] + sorted((source / "docs").glob("*.md"))
    found = []
    for page in pages:
        rel = page.relative_to(source).as_posix()
        found += [(rel, n, code) for n, code in markdown_blocks(page.read_text())]
    for header in sorted((source / "include" / "sansmtp").rglob("*.hpp")):
        rel = header.relative_to(source).as_posix()
        found += [(rel, n, code) for n, code in header_blocks(header.read_text())]
    stems = {}
    for origin, line, code in found:
        stem = re.sub(r"[^a-z0-9]+", "_", f"{origin}_{line}".lower()).strip("_")
        if stem in stems:
            raise SystemExit(f"{origin} line {line} and {stems[stem]} give the same name {stem}")
        stems[stem] = f"{origin} line {line}"
        path = out / f"{stem}.cpp"
        header = PRELUDE.format(origin=f"{origin} line {line}")
        asio = origin.startswith("include/sansmtp/asio/")
        if origin.startswith("include/sansmtp/"):  # a header's example uses that header
            header += f"#include <{origin[len('include/'):]}>\n"
        if "int main(" in code:
            body = header + f"#line {line + 1} \"{origin}\"\n" + code
            programs.append(stem)
        else:
            body = header + f"\nnamespace example_{stem} {{\n#line {line + 1} \"{origin}\"\n" + code + \
                f"}}  // namespace example_{stem}\n"
            (asio_snippets if asio else snippets).append(stem)
        if not path.exists() or path.read_text() != body:
            path.write_text(body)
    with open(out / "examples.cmake", "w") as f:
        f.write(f"set(EXAMPLE_PROGRAMS {' '.join(programs)})\n")
        f.write(f"set(EXAMPLE_SNIPPETS {' '.join(snippets)})\n")
        # Examples in the Asio drivers' headers link sansmtp::asio.
        f.write(f"set(EXAMPLE_ASIO_SNIPPETS {' '.join(asio_snippets)})\n")
    print(f"examples: {len(programs)} programs, {len(snippets) + len(asio_snippets)} snippets")


if __name__ == "__main__":
    main()
