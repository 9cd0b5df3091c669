"""Drafting facts from a new report: ``kg draft`` (see README, section "Drafting a new report").

One module per stage: :mod:`normalise` (text and offset map), :mod:`rules` (the YAML rule files),
:mod:`entities` (registry matching and new-entity proposal), :mod:`figures`, :mod:`dates`,
:mod:`conferrals`, :mod:`modality`, :mod:`draft` (the pipeline), :mod:`writer` (the draft file),
:mod:`review` (the review page), :mod:`accept`, :mod:`evaluate`, :mod:`cli` (the verb).
"""
