"""Helpers for the notebook views' tests: a fixed context, a log, and a small HTML tree."""

from __future__ import annotations

from html.parser import HTMLParser

from slacknb.core.context import RunContext

CONTEXT = RunContext("gpu-host", "/srv/exp", "train.py", "--lr 0.1", "")
ENTRIES = ["epoch", "main/loss", "elapsed_time"]
LINK = "https://example.slack.com/archives/C0TRAINING/p1700000000000100"


def make_log(n):
    return [{"epoch": i + 1, "main/loss": 1.0 / (i + 3), "elapsed_time": i * 1.5} for i in range(n)]


class Node:
    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.children = tag, dict(attrs), []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, cls=None, tag=None):
        return [n for n in self.walk()
                if (cls is None or cls in (n.attrs.get("class") or "").split()) and (tag is None or n.tag == tag)]

    def find(self, cls=None, tag=None):
        found = self.find_all(cls, tag)
        assert len(found) == 1, f"{len(found)} elements with class {cls!r} tag {tag!r}"
        return found[0]


def parse(markup: str) -> Node:
    """A small tree of the HTML (strict enough to catch unbalanced tags)."""
    root = Node("root", {})
    stack = [root]

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            node = Node(tag, attrs)
            stack[-1].children.append(node)
            stack.append(node)

        def handle_endtag(self, tag):
            assert stack[-1].tag == tag, f"</{tag}> closes <{stack[-1].tag}>"
            stack.pop()

        def handle_data(self, data):
            stack[-1].children.append(data)

    parser = Parser(convert_charrefs=True)
    parser.feed(markup)
    parser.close()
    assert stack == [root], "unclosed tags"
    return root


def table_rows(node: Node) -> list[list[str]]:
    return [[td.text() for td in tr.find_all(tag="td")] for tr in node.find(tag="tbody").find_all(tag="tr")]
