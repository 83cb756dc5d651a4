from moka_py_pure._deque import DeqNode, Deque


def items(d: Deque[str]) -> list[str]:
    return list(d)


def test_push_unlink_move() -> None:
    d: Deque[str] = Deque()
    a, b, c = DeqNode("a"), DeqNode("b"), DeqNode("c")
    for n in (a, b, c):
        d.push_back(n)
    assert items(d) == ["a", "b", "c"] and len(d) == 3
    d.move_to_back(a)
    assert items(d) == ["b", "c", "a"]
    d.move_to_back(a)  # already the tail: no-op
    assert items(d) == ["b", "c", "a"]
    d.move_front_to_back()
    assert items(d) == ["c", "a", "b"]
    d.unlink(a)
    assert items(d) == ["c", "b"] and len(d) == 2
    assert not d.contains(a) and d.contains(c) and d.contains(b)
    assert d.pop_front() is c
    assert items(d) == ["b"] and d.head is b and d.tail is b
    d.unlink(b)
    assert d.head is None and d.tail is None and len(d) == 0


def test_contains_is_mokas_cheap_test() -> None:
    d: Deque[str] = Deque()
    a = DeqNode("a")
    assert not d.contains(a)
    d.push_back(a)
    assert d.contains(a)  # the head has no predecessor but is the head
