from workers.consumer import Context
from workers.envelope import PermanentError


def handle(message: dict, context: Context) -> dict:
    word = message.get("word")
    if not isinstance(word, str):
        raise PermanentError("bad input: no word")
    return {"echo": f"{word} {word}"}
