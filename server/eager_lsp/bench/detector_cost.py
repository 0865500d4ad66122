"""Show that the detector's cost per piece does not grow with the length of the file.

Feeds a generated 500-line and 5,000-line file in small pieces and prints CPU time per
character and per piece. If the detector re-scanned or re-parsed the buffer, the long file's
per-piece cost would be about ten times the short one's; it should stay about the same.
"""

from __future__ import annotations

import time

from eager_lsp.core.analysis import analyze
from eager_lsp.core.detector import BoundaryDetector, LogicalLineScanner

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


def measure(lines: int, piece: int = 4, repeat: int = 1) -> dict[str, float]:
    """Feed a `lines`-line file in `piece`-character pieces; CPU costs (best of `repeat`).

    `us_per_piece` is the whole detector. Two parts are also timed on their own: the
    incremental scanner (`us_per_piece_scan`, the part that would grow if anything re-scanned
    the buffer) and the compile and analysis of each released chunk
    (`ms_per_chunk_analysis`, paid once per chunk, at release).
    """
    source = make_source(lines)
    pieces = [source[i : i + piece] for i in range(0, len(source), piece)]
    cpu = min(_feed_cpu(pieces) for _ in range(max(repeat, 1)))
    scan_cpu = min(_scan_cpu(pieces) for _ in range(max(repeat, 1)))
    codes = _chunk_codes(pieces)
    start = time.process_time()
    for code in codes:
        analyze(code)
    analysis_cpu = time.process_time() - start
    return {
        "lines": float(source.count("\n")),
        "chars": float(len(source)),
        "pieces": float(len(pieces)),
        "chunks": float(len(codes)),
        "cpu_s": cpu,
        "us_per_char": cpu / len(source) * 1e6,
        "us_per_piece": cpu / len(pieces) * 1e6,
        "ms_per_chunk_analysis": analysis_cpu / max(len(codes), 1) * 1e3,
        "us_per_piece_scan": scan_cpu / len(pieces) * 1e6,
    }


def _feed_cpu(pieces: list[str]) -> float:
    detector = BoundaryDetector()
    start = time.process_time()
    for p in pieces:
        detector.feed(p)
    detector.end()
    cpu = time.process_time() - start
    if detector.error is not None:
        raise RuntimeError(f"benchmark source did not parse: {detector.error}")
    return cpu


def _scan_cpu(pieces: list[str]) -> float:
    scanner = LogicalLineScanner(lambda *_: None, lambda *_: None)
    carry = ""
    start = time.process_time()
    for p in pieces:
        carry = scanner.scan(carry + p, final=False)
    scanner.scan(carry, final=True)
    return time.process_time() - start


def _chunk_codes(pieces: list[str]) -> list[str]:
    detector = BoundaryDetector()
    chunks = [c for p in pieces for c in detector.feed(p)] + detector.end()
    return [c.code for c in chunks]


def main() -> None:
    small = measure(500, repeat=3)
    large = measure(5000, repeat=3)
    for name, r in (("500 lines", small), ("5,000 lines", large)):
        print(
            f"{name:>12}: {int(r['chars']):>7} chars, {int(r['pieces']):>6} pieces, "
            f"{int(r['chunks']):>5} chunks, {r['cpu_s'] * 1e3:8.1f} ms CPU, "
            f"{r['us_per_char']:6.2f} µs/char, {r['us_per_piece']:6.2f} µs/piece "
            f"(scanner {r['us_per_piece_scan']:5.2f} µs/piece, "
            f"compile+analysis {r['ms_per_chunk_analysis']:4.2f} ms/chunk)"
        )
    ratio = large["us_per_piece"] / small["us_per_piece"]
    scan_ratio = large["us_per_piece_scan"] / small["us_per_piece_scan"]
    print(f"per-piece cost ratio, 5,000 / 500 lines: {ratio:.2f} (scanner alone {scan_ratio:.2f})")
    print("1.0 means no growth with file length; CPU time on a shared machine is noisy (±20%).")


if __name__ == "__main__":
    main()
