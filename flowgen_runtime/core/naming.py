"""Name helpers the runtime needs (kept tiny; the compiler has its own)."""


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)
