"""The coordinator's light markup for the introduction and methods texts."""

from __future__ import annotations

from surveyapp.anthology.markup import Block, Run, parse_blocks


def test_paragraphs_emphasis_and_lists():
    text = (
        "Dit is *nadruk* en **sterk**.\nZelfde alinea.\n\n- een\n- twee\n  vervolg\n\nSlot: 3 * 4."
    )
    assert parse_blocks(text) == (
        Block(
            "paragraph",
            (
                (
                    Run("Dit is "),
                    Run("nadruk", "em"),
                    Run(" en "),
                    Run("sterk", "strong"),
                    Run(". Zelfde alinea."),
                ),
            ),
        ),
        Block("list", ((Run("een"),), (Run("twee vervolg"),))),
        Block("paragraph", ((Run("Slot: 3 * 4."),),)),
    )


def test_empty_text_has_no_blocks():
    assert parse_blocks("") == ()
    assert parse_blocks("\n\n  \n") == ()
