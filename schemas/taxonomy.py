"""One event taxonomy: ACLED's 25 sub-event types plus the non-conflict news types.

Each value is ``family.sub_type``. ``ACLED`` maps the conflict values to ACLED's own
``(event_type, sub_event_type)`` labels so records can be exported to that codebook.
"""

from __future__ import annotations

from enum import Enum


class EventType(str, Enum):
    # ACLED: Battles
    battle_armed_clash = "battle.armed_clash"
    battle_government_regains_territory = "battle.government_regains_territory"
    battle_non_state_actor_overtakes_territory = "battle.non_state_actor_overtakes_territory"
    # ACLED: Explosions/Remote violence
    explosion_air_drone_strike = "explosion.air_drone_strike"
    explosion_shelling_artillery_missile = "explosion.shelling_artillery_missile_attack"
    explosion_suicide_bomb = "explosion.suicide_bomb"
    explosion_remote_explosive = "explosion.remote_explosive_landmine_ied"
    explosion_grenade = "explosion.grenade"
    explosion_chemical_weapon = "explosion.chemical_weapon"
    # ACLED: Violence against civilians
    vac_attack = "violence_against_civilians.attack"
    vac_abduction = "violence_against_civilians.abduction_forced_disappearance"
    vac_sexual_violence = "violence_against_civilians.sexual_violence"
    # ACLED: Protests and Riots
    protest_peaceful = "protest.peaceful"
    protest_with_intervention = "protest.with_intervention"
    protest_excessive_force = "protest.excessive_force_against_protesters"
    riot_violent_demonstration = "riot.violent_demonstration"
    riot_mob_violence = "riot.mob_violence"
    # ACLED: Strategic developments
    strategic_agreement = "strategic.agreement"
    strategic_arrests = "strategic.arrests"
    strategic_change_to_group_activity = "strategic.change_to_group_activity"
    strategic_disrupted_weapons_use = "strategic.disrupted_weapons_use"
    strategic_headquarters_established = "strategic.headquarters_or_base_established"
    strategic_looting = "strategic.looting_property_destruction"
    strategic_territory_transfer = "strategic.non_violent_transfer_of_territory"
    strategic_other = "strategic.other"
    # Non-conflict news
    politics_election = "politics.election"
    politics_policy = "politics.policy_or_legislation"
    politics_diplomacy = "politics.diplomacy_or_negotiation"
    politics_sanctions = "politics.sanctions"
    politics_appointment = "politics.appointment_or_resignation"
    military_deployment = "military.deployment_or_exercise"
    legal_proceedings = "legal.investigation_or_trial"
    humanitarian = "humanitarian.aid_or_displacement"
    economy = "economy.economic_event"
    disaster = "disaster.accident_or_natural_disaster"
    other = "other"


_ACLED_FAMILY = {
    "battle": "Battles",
    "explosion": "Explosions/Remote violence",
    "violence_against_civilians": "Violence against civilians",
    "protest": "Protests",
    "riot": "Riots",
    "strategic": "Strategic developments",
}

_ACLED_SUB = {
    EventType.battle_armed_clash: "Armed clash",
    EventType.battle_government_regains_territory: "Government regains territory",
    EventType.battle_non_state_actor_overtakes_territory: "Non-state actor overtakes territory",
    EventType.explosion_air_drone_strike: "Air/drone strike",
    EventType.explosion_shelling_artillery_missile: "Shelling/artillery/missile attack",
    EventType.explosion_suicide_bomb: "Suicide bomb",
    EventType.explosion_remote_explosive: "Remote explosive/landmine/IED",
    EventType.explosion_grenade: "Grenade",
    EventType.explosion_chemical_weapon: "Chemical weapon",
    EventType.vac_attack: "Attack",
    EventType.vac_abduction: "Abduction/forced disappearance",
    EventType.vac_sexual_violence: "Sexual violence",
    EventType.protest_peaceful: "Peaceful protest",
    EventType.protest_with_intervention: "Protest with intervention",
    EventType.protest_excessive_force: "Excessive force against protesters",
    EventType.riot_violent_demonstration: "Violent demonstration",
    EventType.riot_mob_violence: "Mob violence",
    EventType.strategic_agreement: "Agreement",
    EventType.strategic_arrests: "Arrests",
    EventType.strategic_change_to_group_activity: "Change to group/activity",
    EventType.strategic_disrupted_weapons_use: "Disrupted weapons use",
    EventType.strategic_headquarters_established: "Headquarters or base established",
    EventType.strategic_looting: "Looting/property destruction",
    EventType.strategic_territory_transfer: "Non-violent transfer of territory",
    EventType.strategic_other: "Other",
}


def acled_labels(event_type: EventType) -> tuple[str, str] | None:
    """ACLED's ``(event_type, sub_event_type)`` for a conflict type, else ``None``."""
    sub = _ACLED_SUB.get(event_type)
    if sub is None:
        return None
    return _ACLED_FAMILY[event_type.value.split(".")[0]], sub


def family(event_type: EventType | str) -> str:
    """The part before the dot: ``explosion`` for ``explosion.air_drone_strike``."""
    value = event_type.value if isinstance(event_type, EventType) else event_type
    return value.split(".")[0]
