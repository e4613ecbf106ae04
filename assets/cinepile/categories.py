"""CinePile's five question categories: code, canonical name (the dataset's `question_category`),
a description for prompts, and the cue questions the offline template namer compares questions
with (RECIPES section 2). Several short cues per category, because a sentence embedding of one long
description is dominated by its commonest words.

The canonical names are CinePile's released strings, three of them with a literal line break:
lmms-eval's CinePile task indexes its per-category totals by exactly these strings and fails on a
release whose strings differ. Whatever shows a name to a person or a model (a prompt, a table)
shows it on one line (`label`)."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "CRD": "Character and\nRelationship Dynamics",
    "NPA": "Narrative and\nPlot Analysis",
    "STA": "Setting and\nTechnical Analysis",
    "TEMP": "Temporal",
    "TH": "Theme Exploration",
}


def label(name: str) -> str:
    """A released `question_category` on one line, for display ("Character and Relationship Dynamics")."""
    return " ".join(name.split())


DESCRIPTIONS: dict[str, str] = {
    "CRD": "who a character is, who says something, how characters feel about and treat each other, "
           "their relationships and reactions",
    "NPA": "what happens in the plot, why a character acts, causes and consequences, what is said or "
           "done next, what is revealed",
    "STA": "where the scene takes place, objects and props, clothing, lighting, sound, camera work, "
           "what is visible on screen",
    "TEMP": "when something happens, at what time, the order of events, what comes first, before or "
            "after, how long between moments",
    "TH": "the theme, mood, tone, atmosphere, symbolism and message of the scene, what it says about "
          "people and ideas",
}
CUES: dict[str, tuple[str, ...]] = {
    "CRD": ("Who says this line?", "How does one character feel about another?",
            "What is the relationship between the two characters?", "How does she react to him?",
            "Who helps or comforts whom?", "Which character trusts the other?"),
    "NPA": ("Why does the character make this decision?", "What happens as a result?",
            "What causes the problem?", "What is revealed in the end?", "What does the character plan to do?",
            "What event leads to the turning point?"),
    "STA": ("Where does the scene take place?", "What object is the character holding?",
            "What is the character wearing?", "What colour is the object?", "How is the camera positioned?",
            "What sound or lighting is in the room?"),
    "TEMP": ("At what time does this happen?", "What happens first?", "What happens just before this?",
             "What happens immediately after this?", "In which order do these events happen?",
             "How long after the event does it happen?"),
    "TH": ("What is the theme of the scene?", "What is the mood or atmosphere?", "What does the object symbolise?",
           "What message does the scene convey?", "What emotion dominates the scene?",
           "What lesson does the character learn?"),
}
