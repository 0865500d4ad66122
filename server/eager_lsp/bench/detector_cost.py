"""Show that the detector's cost per piece does not grow with the length of the file.

Feeds a generated 500-line and 5,000-line file in small pieces and prints CPU time per
character and per piece. If the detector re-scanned or re-parsed the buffer, the long file's
per-piece cost would be about ten times the short one's; it should stay about the same.
"""

from __future__ import annotations

import time

from eager_lsp.core.detector import BoundaryDetector

_BLOCKS = (
    "import numpy as np\n",
    "values_{i} = [x * {i} for x in range(10)]  # scale\n",
    "total_{i} = sum(values_{i})\n",
    'print(f"total {{total_{i}}}")\n',
    "\n",
    "def helper_{i}(a, b=2):\n"
    '    """Add with a default."""\n'
    "    if a > b:\n"
    "        return a - b\n"
    "    # fall through\n"
    "    return a + b\n",
    "\n",
    "@decorator(\n    name='w{i}',\n)\nclass Widget{i}:\n    size = {i}\n\n    def area(self):\n        return self.size ** 2\n",
    "\n",
    "for k in range(3):\n    total_{i} += k\nelse:\n    pass\n",
    "try:\n    result_{i} = helper_{i}(1)\nexcept ValueError as err:\n    result_{i} = None\nfinally:\n    done = True\n",
    'text_{i} = """\nmulti-line\ntext at column 0\n"""\n',
    "config_{i} = {{\n    'a': 1,\n    'b': [1, 2,\n3],\n}}\n",
    "# a comment between statements\n",
)


def make_source(lines: int) -> str:
    """A realistic module of at least `lines` lines, cycling through varied statements."""
    out: list[str] = []
    count = 0
    i = 0
    while count < lines:
        block = _BLOCKS[i % len(_BLOCKS)].format(i=i)
        out.append(block)
        count += block.count("\n")
        i += 1
    return "".join(out)


def measure(lines: int, piece: int = 4) -> dict[str, float]:
    """Feed a `lines`-line file in `piece`-character pieces; return CPU costs in microseconds."""
    source = make_source(lines)
    pieces = [source[i : i + piece] for i in range(0, len(source), piece)]
    detector = BoundaryDetector()
    released = 0
    start = time.process_time()
    for p in pieces:
        released += len(detector.feed(p))
    released += len(detector.end())
    cpu = time.process_time() - start
    if detector.error is not None:
        raise RuntimeError(f"benchmark source did not parse: {detector.error}")
    return {
        "lines": float(source.count("\n")),
        "chars": float(len(source)),
        "pieces": float(len(pieces)),
        "chunks": float(released),
        "cpu_s": cpu,
        "us_per_char": cpu / len(source) * 1e6,
        "us_per_piece": cpu / len(pieces) * 1e6,
    }


def main() -> None:
    small = measure(500)
    large = measure(5000)
    for name, r in (("500 lines", small), ("5,000 lines", large)):
        print(
            f"{name:>12}: {int(r['chars']):>7} chars, {int(r['pieces']):>6} pieces, "
            f"{int(r['chunks']):>5} chunks, {r['cpu_s'] * 1e3:8.1f} ms CPU, "
            f"{r['us_per_char']:6.2f} µs/char, {r['us_per_piece']:6.2f} µs/piece"
        )
    ratio = large["us_per_piece"] / small["us_per_piece"]
    print(f"per-piece cost ratio (5,000 / 500 lines): {ratio:.2f}  (1.0 = no growth)")


if __name__ == "__main__":
    main()
