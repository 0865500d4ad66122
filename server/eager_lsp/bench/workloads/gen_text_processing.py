# Word statistics over a short text: many small string operations.
from collections import Counter

text = """The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs on.
A fox is quick and a dog is lazy, or so the story says, and stories repeat."""
words = [w.strip(".,;").lower() for w in text.split()]
counts = Counter(words)
print("distinct words:", len(counts))
top = counts.most_common(5)
print("top:", top)
lengths = [len(w) for w in words]
average_length = sum(lengths) / len(lengths)
longest = max(words, key=len)
sentences = [s.strip() for s in text.replace(";", ".").split(".") if s.strip()]
print("sentences:", len(sentences))
capitalised = [w for w in text.split() if w[:1].isupper()]
vowels = sum(ch in "aeiou" for ch in text.lower())
consonants = sum(ch.isalpha() and ch not in "aeiou" for ch in text.lower())
ratio = round(vowels / consonants, 3)
print(f"average length={average_length:.2f} longest={longest} vowel ratio={ratio}")
initials = "".join(w[0] for w in words if w)
palindromes = sorted({w for w in words if len(w) > 1 and w == w[::-1]})
bigrams = Counter(zip(words, words[1:])).most_common(3)
print("bigrams:", bigrams)
title = " ".join(w.capitalize() for w in sentences[0].split())
report = {"words": len(words), "distinct": len(counts), "longest": longest}
report
