#!/usr/bin/env python3
"""tests/make_sdg_chat.py OUT.jsonl — the conversations a tiny model
memorises for tests/test_sdg.sh: the answers of the test's short SDG
templates (lists in every format the list rule reads, a repeat among them),
one dialogue played from the test's single persona (with polite filler to
be removed), a two-turn follow-up and a math answer."""
import json
import sys

P = "a patient teacher"
C1 = "User: Tell me about bread.\n\nAssistant: Bread is baked."
C2 = C1 + "\n\nUser: Why is it baked?\n\nAssistant: Heat sets it."
convs = [
    ("List 3 topics.", "1. cooking\n2. music\n3. travel"),
    ("List 2 subtopics of cooking.", "1. bread\n2. rice"),
    ("List 2 subtopics of music.", "[\"piano\", \"drums\"]"),
    ("List 2 subtopics of travel.", "- trains\n- Trains\n- maps"),
    ("Ask 2 questions about bread.", "1. How long does bread rise?\n2. Which flour is best?"),
    ("Ask 2 questions about rice.", "1. How much water for rice?\n2. Is brown rice healthy?"),
    ("Ask 2 questions about piano.", "Sure:\n1) How do I start piano?\n2) Who built the first piano?"),
    ("Ask 2 questions about drums.", "* Are drums loud?\n* How do I tune a drum?"),
    ("Ask 2 questions about trains.", "1. How fast is a train?\n2. Where do trains go?"),
    ("Ask 2 questions about maps.", "1. Who drew the first map?\n2. How do I read a map?"),
    ("Tell me about bread.", "Bread is baked."),
    (f"As {P}, reply to: {C1}", "Thank you! Why is it baked?"),
    ([("user", "Tell me about bread."), ("assistant", "Bread is baked."), ("user", "Why is it baked?")], "Heat sets it."),
    (f"As {P}, reply to: {C2}", "Great. How hot?"),
    ([("user", "Tell me about bread."), ("assistant", "Bread is baked."), ("user", "Why is it baked?"),
      ("assistant", "Heat sets it."), ("user", "How hot?")], "Very hot."),
    (f"Follow up on: {C1}", "Thanks. What flour?"),
    ("What is 2+3?", "The answer is 5."),
]
with open(sys.argv[1], "w") as f:
    for user, reply in convs:
        turns = [("user", user)] if isinstance(user, str) else user
        msgs = [{"role": r, "content": c} for r, c in turns] + [{"role": "assistant", "content": reply}]
        f.write(json.dumps({"messages": msgs}) + "\n")
