"""A small parser of nginx.conf into directives, so tests assert on structure rather than on text layout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# A quoted string (either quote, backslash escapes), one of `{ } ;`, or a bare word; comments are skipped.
_TOKEN = re.compile(r"""\s+|#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#]+)""")


@dataclass
class Directive:
    """One directive: its name, its arguments (quotes removed) and, for a block, the directives inside."""

    name: str
    args: list[str] = field(default_factory=list)
    block: list[Directive] = field(default_factory=list)

    def all(self, name: str, *args: str) -> list[Directive]:
        """The directives named `name` directly inside this block whose arguments start with `args`."""
        return [child for child in self.block if child.name == name and child.args[: len(args)] == list(args)]

    def one(self, name: str, *args: str) -> Directive:
        """The single directive named `name` (arguments starting with `args`) directly inside this block."""
        found = self.all(name, *args)
        if len(found) != 1:
            listed = "\n".join(f"  {child}" for child in self.block)
            raise AssertionError(f"expected one `{' '.join((name, *args))}` in `{self}`, found {len(found)}:\n{listed}")
        return found[0]

    def walk(self) -> Iterator[Directive]:
        """Every directive inside this block, at any depth."""
        for child in self.block:
            yield child
            yield from child.walk()

    def __str__(self) -> str:
        return " ".join((self.name, *self.args)) + (" {...}" if self.block else "")


def parse_nginx_conf(text: str) -> Directive:
    """The whole file as the block of a nameless root directive; raises ValueError on unbalanced braces."""
    root = Directive("")
    stack = [root]
    words: list[str] = []
    for match in _TOKEN.finditer(text):
        double_quoted, single_quoted, punctuation, word = match.groups()
        if punctuation is None and word is None and double_quoted is None and single_quoted is None:
            continue
        if punctuation is None:
            words.append(word if word is not None else _unescape(double_quoted or single_quoted or ""))
        elif punctuation == ";":
            stack[-1].block.append(Directive(words[0], words[1:]))
            words = []
        elif punctuation == "{":
            block = Directive(words[0], words[1:])
            stack[-1].block.append(block)
            stack.append(block)
            words = []
        else:
            if len(stack) == 1 or words:
                raise ValueError(f"unbalanced '}}' at offset {match.start()}")
            stack.pop()
    if len(stack) != 1 or words:
        raise ValueError("unterminated block or directive at the end of the config")
    return root


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted)
