#!/usr/bin/env python3
"""tests/ifeval/make_cases.py — writes tests/ifeval/cases.jsonl: hand-made
(instruction id, kwargs, prompt, response) cases, at least 20 per kind of
the 25, each aimed at an edge of the reference's check: exact count
boundaries, "less than" against "at least", empty and blank responses, case,
markdown, the loose mode's first/last line and '*' removal.

    python3 tests/ifeval/make_cases.py > tests/ifeval/cases.jsonl

A case with "known" names a documented class in which the C verifier may
differ from the reference (test_ifeval.sh counts them apart).
"""
import json

cases = []
P = "Write something."


def add(kind, kwargs, response, known=None, prompt=P):
    short = kind.split(":")[1]
    n = sum(1 for c in cases if c["id"] == kind)
    c = {"name": f"{short}-{n + 1:02d}", "id": kind, "kwargs": kwargs, "prompt": prompt, "response": response}
    if known:
        c["known"] = known
    cases.append(c)


def words(n, w="word"):
    return " ".join([w] * n)


# ---- keywords:existence
K = "keywords:existence"
for kw, r in [
    (["bone", "cake"], "I baked a cake with a bone-shaped mould."),
    (["bone", "cake"], "I baked a cake."),
    (["bone", "cake"], "BONE and CAKE, in capitals."),
    (["bone", "cake"], "Cupcakes and trombones."),  # substring matches count (no word boundary)
    (["bone"], ""),
    (["bone"], "   \n  "),
    (["bone"], "bone"),
    (["morning", "star"], "Good morning,\nmorning star."),
    (["morning", "star"], "**morning** and *star*"),
    (["morning", "star"], "Mor ning star"),
    (["press", "lock"], "The press release mentioned a lock."),
    (["press", "lock"], "Pressure on the block."),
    (["press", "lock"], "Nothing here."),
    (["dark", "space"], "Dark\nspace"),
    (["dark", "space"], "darkspace"),
    (["dark", "space"], "DaRk SpAcE"),
    (["intention"], "Intentional."),
    (["intention"], "intent"),
    (["good morning"], "A good morning to you."),
    (["good morning"], "good  morning"),
    (["café"], "Un CAFÉ noir."),
    (["draft", "wish"], "Here is a draft.\nI wish you well."),
]:
    add(K, {"keywords": kw}, r)

# ---- keywords:frequency
K = "keywords:frequency"
for kw, f, rel, r in [
    ("cake", 3, "at least", "cake cake cake"),
    ("cake", 3, "at least", "cake cake"),
    ("cake", 3, "less than", "cake cake"),
    ("cake", 3, "less than", "cake cake cake"),
    ("cake", 1, "at least", "Cupcake!"),
    ("cake", 1, "less than", "No dessert."),
    ("cake", 1, "less than", ""),
    ("cake", 2, "at least", "CAKE and Cake"),
    ("cake", 2, "at least", "cakecake"),
    ("aa", 2, "at least", "aaa"),  # non-overlapping: one
    ("aa", 2, "at least", "aaaa"),
    ("the", 3, "less than", "The theory of the theatre."),
    ("the", 3, "at least", "The theory of the theatre."),
    (" star ", 2, "at least", "star, star"),  # the keyword is stripped
    ("star", 2, "at least", "*star* **star**"),
    ("star", 3, "at least", "star\nstar\nstar"),
    ("star", 3, "less than", "star\nstar\nstar"),
    ("good morning", 2, "at least", "Good morning! good MORNING."),
    ("good morning", 1, "less than", "good  morning"),
    ("Ünit", 2, "at least", "ünit ÜNIT"),
    ("bone", 1, "at least", "   "),
]:
    add(K, {"keyword": kw, "frequency": f, "relation": rel}, r)

# ---- keywords:forbidden_words
K = "keywords:forbidden_words"
for fw, r in [
    (["bone", "cake"], "I like pie."),
    (["bone", "cake"], "I like cake."),
    (["bone", "cake"], "I like cupcakes."),  # whole words only
    (["bone", "cake"], "BONE!"),
    (["bone", "cake"], "cake-walk"),  # '-' is a boundary
    (["bone", "cake"], "cake_walk"),  # '_' is a word character
    (["bone", "cake"], "bone2"),
    (["bone", "cake"], ""),
    (["bone", "cake"], "\n\n"),
    (["bone", "cake"], "bones"),
    (["star"], "*star*"),
    (["star"], "stars and starlight"),
    (["star"], "A star."),
    (["star"], "Star"),
    (["good morning"], "good morning"),
    (["good morning"], "goodmorning"),
    (["draft", "draft"], "a draft"),
    (["draft"], "drafting"),
    (["naïve"], "so NAÏVE"),
    (["naïve"], "naïveté"),
    (["lock"], "lock's"),
]:
    add(K, {"forbidden_words": fw}, r)

# ---- keywords:letter_frequency
K = "keywords:letter_frequency"
for letter, f, rel, r in [
    ("a", 3, "at least", "banana"),
    ("a", 4, "at least", "banana"),
    ("a", 4, "less than", "banana"),
    ("a", 3, "less than", "banana"),
    ("b", 1, "at least", "B"),
    ("B", 1, "at least", "b"),
    ("z", 1, "less than", "no such letter here"),
    ("z", 1, "less than", ""),
    ("e", 10, "at least", "eeeee EEEEE"),
    ("e", 10, "at least", "eeeee EEEE"),
    ("e", 10, "less than", "eeeee EEEE"),
    ("k", 1, "at least", "\u212a"),  # KELVIN SIGN lowers to k
    ("i", 1, "at least", "\u0130"),  # capital I with dot lowers to i + combining dot
    ("s", 2, "at least", "**s** *s*"),
    ("q", 2, "at least", "Q\nq"),
    ("x", 5, "less than", "xxxx"),
    ("x", 5, "less than", "xxxxx"),
    ("o", 3, "at least", "Foo\nbOo"),
    ("t", 3, "at least", "tt"),
    ("y", 2, "at least", "yes yes"),
    ("w", 1, "at least", "  "),
]:
    add(K, {"letter": letter, "let_frequency": f, "let_relation": rel}, r)

# ---- language:response_language
K = "language:response_language"
EN = "The weather is lovely today, and we are going for a long walk in the park near the river."
FR = "Le temps est magnifique aujourd'hui, et nous allons faire une longue promenade dans le parc près de la rivière."
DE = "Das Wetter ist heute wunderschön, und wir machen einen langen Spaziergang im Park am Fluss."
ES = "El tiempo es precioso hoy, y vamos a dar un largo paseo por el parque cerca del río."
IT = "Il tempo è bellissimo oggi, e faremo una lunga passeggiata nel parco vicino al fiume."
PT = "O tempo está lindo hoje, e vamos fazer uma longa caminhada no parque perto do rio."
RU = "Сегодня прекрасная погода, и мы собираемся на долгую прогулку в парке у реки."
JA = "今日はとても良い天気なので、川の近くの公園で長い散歩をするつもりです。"
KO = "오늘은 날씨가 정말 좋아서 우리는 강 근처 공원에서 오래 산책을 할 예정입니다."
HI = "आज मौसम बहुत सुहावना है, और हम नदी के पास पार्क में लंबी सैर करने जा रहे हैं।"
AR = "الطقس جميل جدا اليوم، وسنذهب في نزهة طويلة في الحديقة بالقرب من النهر."
TH = "วันนี้อากาศดีมาก และเราจะไปเดินเล่นนาน ๆ ในสวนสาธารณะใกล้แม่น้ำ"
FI = "Sää on tänään ihana, ja lähdemme pitkälle kävelylle puistoon joen lähelle."
PL = "Pogoda jest dziś piękna i idziemy na długi spacer do parku nad rzeką."
for lang, r in [("en", EN), ("fr", FR), ("de", DE), ("es", ES), ("it", IT), ("pt", PT), ("ru", RU), ("ja", JA),
                ("ko", KO), ("hi", HI), ("ar", AR), ("th", TH), ("fi", FI), ("pl", PL),
                ("fr", EN), ("en", FR), ("de", ES), ("ru", JA),
                ("en", "12345 67890 !!!"),  # no letters: langdetect raises, counted as followed
                ("fr", "---"),
                ("en", ""),
                ("en", "*" + EN + "*\n\nP.S. " + EN)]:
    add(K, {"language": lang}, r)

# ---- length_constraints:number_sentences
K = "length_constraints:number_sentences"
for n, rel, r in [
    (3, "at least", "One. Two. Three."),
    (3, "at least", "One. Two."),
    (3, "less than", "One. Two."),
    (3, "less than", "One. Two. Three."),
    (1, "at least", "No period at the end"),
    (1, "less than", ""),
    (2, "at least", "Is it? Yes!"),
    (2, "at least", "Mr. Smith went to Washington."),  # an abbreviation
    (2, "at least", "It costs 3.50 dollars. Fine."),
    (3, "at least", "Wait... what? Really."),
    (2, "at least", "He said \"hi.\" Then he left."),
    (2, "at least", "(This is one.) And two."),
    (2, "at least", "Line one\nline two"),
    (2, "at least", "First.\n\nSecond."),
    (4, "at least", "1. Apples\n2. Pears\n3. Plums"),
    (2, "at least", "It was 1990. Then came 1991."),
    (2, "less than", "Visit www.example.com today."),
    (3, "at least", "e.g. this one. And that. Ok."),
    (2, "at least", "What?! No."),
    (20, "less than", " ".join(["Sentence."] * 19)),
    (20, "less than", " ".join(["Sentence."] * 20)),
    (5, "at least", "Dr. Jones met Prof. Lee at 5 p.m. They talked. It rained. Home. Done."),
]:
    add(K, {"num_sentences": n, "relation": rel}, r)

# ---- length_constraints:number_paragraphs
K = "length_constraints:number_paragraphs"
for n, r in [
    (2, "First.\n***\nSecond."),
    (2, "First.\n\n***\n\nSecond."),
    (3, "First.\n***\nSecond."),
    (2, "***\nFirst.\n***\nSecond.\n***"),  # empty first and last pieces do not count
    (2, "First.\n***\n***\nSecond."),  # an empty middle piece fails
    (1, "Just one paragraph."),
    (1, ""),
    (1, "   "),
    (2, "First.***Second."),
    (2, "First. *** Second."),
    (3, "a\n***\nb\n***\nc"),
    (3, "a\n* * *\nb\n* * *\nc"),
    (2, "a\n****\nb"),  # four asterisks: '***' and '*'
    (2, "a\n******\nb"),  # two separators, empty middle
    (5, "a\n***\nb\n***\nc\n***\nd\n***\ne"),
    (4, "a\n***\nb\n***\nc\n***\nd\n***\ne"),
    (2, "**bold** text\n***\nmore"),
    (2, "Intro line\nFirst.\n***\nSecond.\nOutro line"),
    (3, "a\n\nb\n\nc"),
    (2, "a\n***\nb\n"),
    (2, "\n***\na\n***\nb"),
]:
    add(K, {"num_paragraphs": n}, r)

# ---- length_constraints:number_words
K = "length_constraints:number_words"
for n, rel, r in [
    (100, "at least", words(100)),
    (100, "at least", words(99)),
    (100, "less than", words(99)),
    (100, "less than", words(100)),
    (100, "at least", words(50, "don't")),  # don't = 2 \w+ tokens
    (100, "at least", words(100, "state-of-the-art")),
    (100, "less than", ""),
    (100, "less than", "   "),
    (100, "at least", " ".join(["x_y"] * 100)),  # '_' is a word character: one token
    (100, "at least", " ".join(["3.14"] * 50)),
    (100, "at least", " ".join(["naïve"] * 100)),
    (100, "at least", " ".join(["नमस्ते"] * 50)),  # combining vowel signs are not \w: split
    (100, "at least", " ".join(["日本語"] * 100)),
    (100, "less than", " ".join(["*word*"] * 99)),
    (200, "at least", words(150) + "\n\n" + words(50)),
    (200, "at least", words(150) + "\n\n" + words(49)),
    (300, "less than", "Title\n" + words(299)),
    (300, "at least", "Title\n" + words(299)),
    (150, "at least", " ".join(["e-mail"] * 75)),
    (120, "at least", ",".join(["word"] * 120)),
    (500, "less than", words(499)),
]:
    add(K, {"num_words": n, "relation": rel}, r)

# ---- length_constraints:nth_paragraph_first_word
K = "length_constraints:nth_paragraph_first_word"
for n, nth, fw, r in [
    (2, 2, "bone", "First paragraph.\n\nBone is here."),
    (2, 2, "bone", "First paragraph.\n\nCake is here."),
    (2, 1, "first", "First paragraph.\n\nSecond."),
    (3, 2, "bone", "First.\n\nBone.\n\nThird."),
    (2, 2, "bone", "First.\n\nBone.\n\nThird."),  # three paragraphs, two asked
    (2, 2, "bone", "First.\nBone."),  # single newline: one paragraph
    (2, 2, "bone", "First.\n\n\n\nBone."),  # an empty piece between
    (2, 2, "bone", "First.\n\n\nBone."),
    (2, 2, "bone", "First.\n\n'Bone' said he."),
    (2, 2, "bone", "First.\n\n\"Bone,\" said he."),
    (2, 2, "bone", "First.\n\nBone, then."),
    (2, 2, "bone", "First.\n\nBones are here."),
    (2, 2, "bone", "First.\n\n**Bone** is bold."),
    (2, 2, "bone", "First.\n\n   Bone indented."),
    (1, 1, "bone", "Bone alone."),
    (1, 1, "bone", ""),
    (2, 2, "bone", "\n\nFirst.\n\nBone."),  # a leading empty piece: paragraph 2 is 'First.'
    (3, 3, "cake", "a\n\nb\n\ncake!"),
    (3, 3, "cake", "a\n\nb\n\ncake?"),
    (5, 4, "star", "a\n\nb\n\nc\n\nstar d\n\ne"),
    (2, 2, "bone", "First.\n\nBone's shape."),
    (2, 2, "bone", "First.\n\nBONE."),
]:
    add(K, {"num_paragraphs": n, "nth_paragraph": nth, "first_word": fw}, r)

# ---- detectable_content:number_placeholders
K = "detectable_content:number_placeholders"
for n, r in [
    (2, "Dear [name], at [address]."),
    (3, "Dear [name], at [address]."),
    (1, "No placeholders."),
    (1, "[]"),  # empty brackets count
    (1, "[unclosed"),
    (2, "[a] [b"),
    (1, "[a\nb]"),  # no newline inside
    (2, "[a [b] c]"),  # lazy: '[a [b]' then ' c]' has no '['
    (2, "[[a]] [b]"),
    (4, "[a][b][c][d]"),
    (4, "[a][b][c]"),
    (1, ""),
    (1, "**[name]**"),
    (2, "Line [one]\nLine [two]"),
    (1, "] [ ]"),
    (3, "[x] [y] [z] extra ] ["),
    (2, "[ ] [  ]"),
    (1, "Hello [name"),
    (1, "(name) {name}"),
    (3, "[a]\n[b]\n[c]"),
    (2, "[a]\n[b]\n[c]"),
]:
    add(K, {"num_placeholders": n}, r)

# ---- detectable_content:postscript
K = "detectable_content:postscript"
for m, r in [
    ("P.S.", "Hello.\n\nP.S. See you."),
    ("P.S.", "Hello.\n\np.s. see you."),
    ("P.S.", "Hello.\n\nP. S. See you."),
    ("P.S.", "Hello.\n\nPS See you."),
    ("P.S.", "Hello.\n\nP.S See you."),  # no final period
    ("P.S.", "Help. So."),  # 'p. s.' inside words
    ("P.S.", ""),
    ("P.S.", "Hello.\n\n**P.S.** See you."),
    ("P.S.", "P.S. first line then more"),
    ("P.S.", "Hello.\nP.P.S. only"),
    ("P.P.S", "Hello.\n\nP.P.S. See you."),
    ("P.P.S", "Hello.\n\nP.S. See you."),
    ("P.P.S", "Hello.\n\np. p. s. see you."),
    ("P.P.S", "Hello.\n\nP.P.S"),
    ("P.P.S", "Hello.\n\nPPS see you"),
    ("P.P.S", "Hello. P.P.S. in the middle."),
    ("P.P.S", "   "),
    ("P.P.S", "*P.P.S* starred"),
    ("P.S.", "p.\ts. tab"),
    ("P.S.", "p.\n s. newline and space"),
    ("P.P.S", "Hello.\n\nP.P.S. See you.\n"),
]:
    add(K, {"postscript_marker": m}, r)

# ---- detectable_format:number_bullet_lists
K = "detectable_format:number_bullet_lists"
for n, r in [
    (2, "* one\n* two"),
    (3, "* one\n* two"),
    (2, "- one\n- two"),
    (2, "* one\n- two"),
    (2, "  * one\n\t- two"),
    (1, "**bold** line\n* one"),  # '**' is not a bullet
    (2, "*one\n*two"),
    (1, "* one\n\n\n"),
    (2, "*\n* two"),  # a lone '*' takes the next line with it
    (1, "*\n* two"),
    (0 or 1, "no bullets"),
    (1, ""),
    (3, "Intro:\n* a\n* b\n* c\nOutro."),
    (2, "1. one\n2. two"),
    (2, "* a\n  * nested"),
    (2, "- a\n--- b"),
    (2, "* a\n\n* b"),
    (5, "* a\n* b\n* c\n* d\n* e"),
    (4, "* a\n* b\n* c\n* d\n* e"),
    (2, "text * not a bullet\n* one\n- two"),
    (1, "• one"),
    (2, "* one\r\n* two"),
]:
    add(K, {"num_bullets": n}, r)

# ---- detectable_format:constrained_response
K = "detectable_format:constrained_response"
for r in ["My answer is yes.", "My answer is no.", "My answer is maybe.", "my answer is yes.", "My answer is yes",
          "Well... My answer is no. Because.", "My answer is: yes.", "", "   ", "My answer is maybe.\n",
          "**My answer is yes.**", "My answer is  yes.", "Answer: My answer is no.", "MY ANSWER IS NO.",
          "My answer is yes!", "My answer is no.\nMy answer is yes.", "My answer is probably yes.",
          "Yes.", "My\nanswer is yes.", "\"My answer is maybe.\"", "My answer is no. "]:
    add(K, {}, r)

# ---- detectable_format:number_highlighted_sections
K = "detectable_format:number_highlighted_sections"
for n, r in [
    (2, "*one* and *two*"),
    (3, "*one* and *two*"),
    (1, "**bold**"),
    (2, "**bold**"),  # '**bold**': one double, and single '*' pairs are empty
    (1, "* *"),
    (1, "**"),
    (1, "*a\nb*"),
    (2, "*a* *b* *"),
    (3, "*a**b**c*"),
    (1, ""),
    (2, "*a* **b**"),
    (3, "*a* **b**"),
    (4, "*a* *b* *c* *d*"),
    (1, "no highlights"),
    (1, "***x***"),
    (2, "***x***"),
    (1, "*   *"),
    (2, "*one*\n*two*"),
    (1, "a * b * c"),
    (2, "**a** **b**"),
    (4, "**a** **b**"),
    (1, "*ünïcode*"),
]:
    add(K, {"num_highlights": n}, r)

# ---- detectable_format:multiple_sections
K = "detectable_format:multiple_sections"
for sp, n, r in [
    ("Section", 2, "Section 1\nintro\nSection 2\nbody"),
    ("Section", 3, "Section 1\nintro\nSection 2\nbody"),
    ("SECTION", 2, "SECTION 1\na\nSECTION 2\nb"),
    ("SECTION", 2, "Section 1\na\nSection 2\nb"),  # case-sensitive
    ("Section", 2, "Section1 a Section2 b"),
    ("Section", 2, "Section  1 a Section  2 b"),  # two blanks: no
    ("Section", 1, "Section X"),
    ("Section", 1, "Section 12"),
    ("Section", 2, "SubSection 1 and Section 2"),
    ("Section", 1, ""),
    ("Section", 2, "**Section 1**\na\n**Section 2**\nb"),
    ("Section", 5, "Section 1 Section 2 Section 3 Section 4 Section 5"),
    ("Section", 5, "Section 1 Section 2 Section 3 Section 4"),
    ("Section", 1, "Sections 1"),
    ("Section", 1, "Section\t1"),
    ("Section", 1, "Section\n1"),
    ("SECTION", 1, "SECTION 1: intro"),
    ("Section", 2, "Section 1Section 2"),
    ("Section", 1, "Section ١"),  # Arabic-Indic digit is \d
    ("Section", 3, "Section 1\n\nSection 2\n\nSection 3\n"),
    ("SECTION", 2, "SECTION 1 SECTION  2"),
]:
    add(K, {"section_spliter": sp, "num_sections": n}, r)

# ---- detectable_format:json_format
K = "detectable_format:json_format"
for r in ['{"a": 1}', '```json\n{"a": 1}\n```', '```\n{"a": 1}\n```', '```JSON\n[1, 2]\n```', '```Json\n"x"\n```',
          '{"a": 1,}', "{'a': 1}", '{"a": NaN}', '{"a": Infinity, "b": -Infinity}', '[1, 2] [3]', '', '   ',
          'Here is JSON: {"a": 1}', '{"a": "tab\there"}', '{"a": "\\u00e9"}', '{"a": "\\x41"}', '01', '-0.5e-3',
          '1.', 'true', 'null', '```json\n{"a": 1}', '{"a": 1}\n```', '{"a": [1, {"b": null}]}', '```python\n{}\n```',
          '\ufeff{}']:
    add(K, {}, r)

# ---- detectable_format:title
K = "detectable_format:title"
for r in ["<<A Title>>\nbody", "No title here", "<<>>", "<< >>", "<<>>>", "<<<a>>>", "<<a\nb>>", "<<a>> and <<b>>",
          "Text <<title>> text", "", "<<a", "a>>", "**<<bold title>>**", "< <a> >", "<<  x  >>", "<<a>\n>>",
          "<<<>>>", "<<title>>>>", "<<\ta\t>>", "«title»", "<<ünïcode>>"]:
    add(K, {}, r)

# ---- combination:two_responses
K = "combination:two_responses"
for r in ["First answer.\n******\nSecond answer.", "Same.\n******\nSame.", "One only.",
          "A\n******\nB\n******\nC", "******\nA\n******\nB", "A\n******\nB\n******", "A\n******\n\n******\nB",
          "A******B", "A *** *** B", "A\n*******\nB", "A\n************\nB", "", "   ", "A\n******\n   ",
          " A \n******\nA", "A\n******\na", "**A**\n******\n**B**", "A\n****** \nB", "******", "A\n******\nB\n"]:
    add(K, {}, r)

# ---- combination:repeat_prompt
K = "combination:repeat_prompt"
Q = "Write a short poem about the sea."
for ptr, r in [
    (Q, Q + " The sea is blue."),
    (Q, "Sure! " + Q + " The sea is blue."),
    (Q, Q.lower() + " the sea."),
    (Q, "  " + Q + "\nThe sea."),
    (Q, Q[:-1] + " The sea."),
    (Q, ""),
    (Q, Q),
    (Q + "  ", Q + " more"),
    (Q, "**" + Q + "** The sea."),
    (Q, Q.upper() + " THE SEA."),
    ("Écris un poème.", "écris un poème. La mer."),
    ("Say hi.", "Say hi.\nHi!"),
    ("Say hi.", "Say hi!"),
    ("Say hi.", "Say  hi."),
    ("Say hi.\nThen bye.", "Say hi.\nThen bye. Hi, bye."),
    ("Say hi.", "\"Say hi.\" Hi."),
    ("Σ test", "σ test ok"),
    ("İstanbul?", "i̇stanbul? yes"),
    ("Say hi.", "Intro line\nSay hi. Hi."),
    ("Say hi.", "Say hi. Hi.\nOutro"),
    ("Tab\there.", "tab\there. ok"),
]:
    add(K, {"prompt_to_repeat": ptr}, r, prompt=ptr)

# ---- startend:end_checker
K = "startend:end_checker"
E = "Is there anything else I can help with?"
for ph, r in [
    (E, "Done. " + E),
    (E, "Done. " + E + " "),
    (E, "Done. " + E + "\n"),
    (E, "Done. " + E.lower()),
    (E, "Done. " + E[:-1]),
    (E, "Done. \"" + E + "\""),
    (E, "Done. " + E + " Bye."),
    (E, ""),
    (E, E),
    (E, "**" + E + "**"),
    ("Any other questions?", "Ok. Any other questions?"),
    ("Any other questions?", "Ok. ANY OTHER QUESTIONS?"),
    ("Any other questions?", "Ok. Any other questions?!"),
    ("Any other questions?", "Ok.\nAny other questions?\n\n"),
    ("  Any other questions?  ", "Ok. Any other questions?"),
    ("Any other questions?", "\"Ok. Any other questions?\""),
    ("Any other questions?", "Ok. Any other questions?'"),
    ("Peace!", "Goodbye. Peace!"),
    ("Peace!", "Goodbye. peace!"),
    ("Peace!", "Goodbye. Peace"),
    ("Peace!", "Goodbye. Peace!\nP.S. more"),
]:
    add(K, {"end_phrase": ph}, r)

# ---- change_case:capital_word_frequency
K = "change_case:capital_word_frequency"
for n, rel, r in [
    (3, "at least", "THE BIG DOG ran."),
    (4, "at least", "THE BIG DOG ran."),
    (4, "less than", "THE BIG DOG ran."),
    (3, "less than", "THE BIG DOG ran."),
    (2, "at least", "I DON'T know."),  # DO, N'T
    (3, "at least", "I DON'T KNOW."),
    (2, "at least", "IT'S fine."),  # IT, 'S
    (2, "at least", "CANNOT"),  # CAN, NOT
    (2, "at least", "HELLO,WORLD"),
    (2, "at least", "HELLO-WORLD"),  # one token
    (2, "at least", "U.S.A. and U.K."),
    (1, "at least", "A1"),
    (1, "at least", "123"),
    (1, "less than", ""),
    (2, "at least", "(NASA) [ESA]"),
    (2, "at least", "NASA's ESA's"),
    (3, "at least", "Mr. SMITH WENT HOME. OK."),
    (2, "at least", "WHAT?! WHY"),
    (2, "at least", "*BOLD* **TEXT**"),
    (20, "less than", " ".join(["CAPS"] * 19)),
    (20, "less than", " ".join(["CAPS"] * 20)),
    (2, "at least", "ÉTÉ ÇA"),
    (2, "at least", "I'M HERE"),
    (3, "at least", "WE'LL SEE THEM"),
]:
    add(K, {"capital_frequency": n, "capital_relation": rel}, r)

# ---- change_case:english_capital
K = "change_case:english_capital"
for r in ["THIS IS A SENTENCE WRITTEN ENTIRELY IN CAPITAL LETTERS, AS ASKED.",
          "THIS IS A SENTENCE WRITTEN ENTIRELY IN CAPITAL LETTERS, as asked.",
          "THE WEATHER IS LOVELY TODAY, AND WE ARE GOING FOR A LONG WALK IN THE PARK.",
          "LE TEMPS EST MAGNIFIQUE AUJOURD'HUI, ET NOUS ALLONS FAIRE UNE LONGUE PROMENADE DANS LE PARC.",
          "12345", "", "   ", "HELLO 123 WORLD! THIS IS A TEST OF THE CAPITAL LETTER CHECK.",
          "**THIS IS BOLD AND ALL IN CAPITALS, WHICH SHOULD STILL COUNT AS ENGLISH TEXT.**",
          "ǅ TITLECASE LETTER MAKES THIS NOT ALL UPPER CASE, ALTHOUGH THE REST OF IT IS.",
          "THIS IS ENGLISH TEXT IN CAPITALS.\nAND IT HAS A SECOND LINE AS WELL, FOR GOOD MEASURE.",
          "this is english text in lowercase letters, not in capitals as the instruction asks.",
          "DAS WETTER IST HEUTE WUNDERSCHÖN, UND WIR MACHEN EINEN LANGEN SPAZIERGANG IM PARK.",
          "I THINK THAT THE ANSWER TO YOUR QUESTION IS YES, BUT IT DEPENDS ON THE DETAILS.",
          "Title line\nTHE REST OF THE ANSWER IS IN CAPITAL LETTERS AS THE INSTRUCTION SAYS.",
          "THE REST OF THE ANSWER IS IN CAPITAL LETTERS AS THE INSTRUCTION SAYS.\nBye now",
          "MY ANSWER IS YES. I AGREE WITH YOU COMPLETELY ABOUT THE PLAN FOR THE WEEKEND.",
          ("ÇA VA? OUI, ÇA VA TRÈS BIEN, MERCI BEAUCOUP POUR TA QUESTION, MON AMI.", "language"),
          "WHAT A WONDERFUL DAY IT IS! THE SUN IS SHINING AND THE BIRDS ARE SINGING.",
          "A", "OK, HERE IS THE LIST YOU ASKED FOR: APPLES, PEARS, PLUMS AND CHERRIES."]:
    # known "language": langdetect drops the n-grams of words in capitals, so on capitalised
    # French it answers English (CLD2: French)
    add(K, {}, *(r if isinstance(r, tuple) else (r,)))

# ---- change_case:english_lowercase
K = "change_case:english_lowercase"
for r in ["this is a sentence written entirely in lowercase letters, as asked.",
          "This is a sentence with one capital letter at the start of the text.",
          "the weather is lovely today, and we are going for a long walk in the park.",
          "le temps est magnifique aujourd'hui, et nous allons faire une longue promenade dans le parc.",
          "12345", "", "  \n ", "hello 123 world! this is a test of the lowercase letter check.",
          "**this is bold and all in lowercase, which should still count as english text.**",
          "ǆ is a lowercase digraph here and the rest of the sentence is lowercase english.",
          "first line in lowercase english words.\nsecond line, also lowercase english words.",
          "Title Line\nthe rest of the answer is in lowercase letters as the instruction says.",
          "the rest of the answer is in lowercase letters as the instruction says.\nBye Now",
          "das wetter ist heute wunderschön, und wir machen einen langen spaziergang im park.",
          "i think that the answer to your question is yes, but it depends on the details.",
          "my answer is yes. i agree with you completely about the plan for the weekend.",
          "what a wonderful day it is! the sun is shining and the birds are singing today.",
          "a", "ok, here is the list you asked for: apples, pears, plums and cherries.",
          "this text has an Uppercase word in the middle of an otherwise lowercase sentence.",
          "ßtraße is german but the rest of this sentence is lowercase english words."]:
    add(K, {}, r)

# ---- punctuation:no_comma
K = "punctuation:no_comma"
for r in ["No commas here.", "One, comma.", "", "   ", "Full-width comma\uff0c here.", "Arabic comma \u060c here.",
          "Line one\nline two.", "Comma at end,", ",", "Numbers 1,000 here.", "Semicolons; colons: fine.",
          "**bold, text**", "Intro, line\nbody without commas", "body without commas\nOutro, line",
          "Quote \"a,b\"", "‚ low comma quotation mark", "Tab\tseparated\tvalues", "Dots... and dashes -- ok.",
          "Twice,, commas", "Ideographic comma \u3001 here."]:
    add(K, {}, r)

# ---- startend:quotation
K = "startend:quotation"
for r in ['"Hello there."', 'Hello there.', '"Hello there.', 'Hello there."', '""', '"', '', '  "Hi"  ',
          '"Hi"\n', "'Hi'", '“Hi”', '"Hi" there', 'Intro\n"Hi"', '"Hi"\nOutro', '**"Hi"**', '"**Hi**"',
          '"multi\nline"', '" "', '"a" "b"', '\n\n"x"\n\n']:
    add(K, {}, r)

assert len({c["name"] for c in cases}) == len(cases)
for c in cases:
    print(json.dumps(c, ensure_ascii=False))
