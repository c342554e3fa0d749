import os
import answer

print(f"answer from C: {answer.answer()} (uid {os.getuid()}, {answer.__file__})")
