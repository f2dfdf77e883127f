"""Answer model of the synthetic demo edition, indicator by indicator.

Published national figures come from the catalogue (``published``) and are
reproduced exactly on the accepted rows. This table gives everything else:
the shares of the unpublished figures — plausible and consistent with the
words of the study report quoted in the catalogue notes ("une minorité",
"une large majorité", "peu", "juste suffisant" for a majority…) — and the
covariate effects that make the maps and breakdowns realistic.

Keys of a spec (all optional):

``t``
    Target shares. Categorical questions: option -> share of the valid
    answers (``non_concerne``, outside the valid answers, is a share of all
    answers); the left-over share goes to ``rest``. Multiple choice: option ->
    share of the respondents who answered. A published figure wins, except
    when it is a bound (``precision`` ``below``/``above``): then ``t`` gives
    the value, which must respect the bound.
``rest``
    Option receiving the left-over share (default ``non``, or the lowest level
    of a scale).
``order``
    Nominal single choice: options drawn in this order, each among the rows
    not yet assigned, by its own score (``opt``).
``beta``, ``lam``, ``gamma``, ``delta``
    Effects on the latent score: size (standardised log population), the
    collectivity's general digital maturity, the smooth spatial field
    (région + département + distance-decaying waves), and being served by a
    mutualisation structure. Defaults 0.5, 1.0, 1.0, 0.0.
``opt``
    Per option overrides of those effects (``{"oui_interne": {"beta": 1.5}}``).
``bonus``
    ``{(indicator, option): logit}`` added where an earlier answer holds that
    option (consistency between questions).
``requires``
    ``(indicator, options)``: the positive answer only where that earlier
    answer is one of the options (a charter only where telework exists).
``skip``
    Share of the rows asked that leave the question blank (default 0.015);
    ``skip_beta`` makes small collectivities skip more.
``spread``
    Multiple choice: bonus for rows with no option ticked yet, so that the
    options spread over the respondents (most tick one place, not five).
``filler``
    Multiple choice: option ticked on an answering row left with none
    (default the exclusive "aucun" option, else ``autre``).
"""

from __future__ import annotations

__all__ = ["PERCENTAGE_TARGETS", "SPECS"]

_NSP = "ne_sait_pas"

SPECS: dict[str, dict] = {
    # ---------------------------------------------------------------- profil
    "profil_mutualisation": {
        "t": {"oui": 0.62, _NSP: 0.07},
        "delta": 3.2, "beta": 0.4, "lam": 0.3, "gamma": 0.3, "skip": 0.01,
    },
    # ------------------------------------------------------------- inclusion
    "inclusion_cnfs": {"t": {_NSP: 0.04}, "beta": 0.8, "bonus": {}},
    "inclusion_actions_mediation": {  # "une minorité mène des actions spécifiques"
        "t": {"oui": 0.35, _NSP: 0.04}, "beta": 0.7,
        "bonus": {("inclusion_cnfs", "oui"): 1.6},
    },
    "inclusion_actions_types": {
        "t": {"competences_numeriques": 0.62, "acces_internet": 0.55, "autre": 0.07},
        "spread": 0.5, "filler": "competences_numeriques",
    },
    "inclusion_lieux_mediation": {
        "t": {_NSP: 0.03}, "beta": 0.9,
        "bonus": {("inclusion_cnfs", "oui"): 1.2, ("inclusion_actions_mediation", "oui"): 1.0},
    },
    "inclusion_lieux_types": {
        "t": {"tiers_lieux": 0.09, "autre": 0.30}, "spread": 8.0,
        "opt": {"maisons_france_services": {"beta": -0.2}, "centres_sociaux": {"beta": 1.2},
                "mediatheques": {"beta": 0.8}},
    },
    # ----------------------------------------------------------------- cyber
    "cyber_victime": {"t": {"oui": 0.12, _NSP: 0.08}, "beta": 0.7, "lam": 0.0},
    "cyber_types_attaques": {
        "t": {"rancongiciel": 0.25, "paralysie_site": 0.18, "fraude_virement": 0.32,
              "vol_donnees": 0.12, "autre": 0.28},
        "spread": 6.0, "lam": 0.0,
    },
    "cyber_protections": {  # "une large majorité utilise des outils de protection"
        "t": {"aucun": 0.03, "antivirus": 0.94, "pare_feu": 0.70,
              "sauvegardes_externalisees": 0.58, "filtrage_messagerie": 0.52,
              "mises_a_jour": 0.64, "double_authentification": 0.24},
        "filler": "antivirus",
    },
    "cyber_pca": {"t": {_NSP: 0.06}, "beta": 0.8, "delta": 0.4},
    "cyber_pra": {  # "les plans de continuité ou de reprise restent peu présents"
        "t": {"oui": 0.21, _NSP: 0.08}, "beta": 0.8, "bonus": {("cyber_pca", "oui"): 2.0},
    },
    "cyber_rssi": {
        "t": {"oui_interne": 0.09, "oui_mutualise": 0.13, _NSP: 0.05},
        "order": ("oui_interne", "oui_mutualise"), "rest": "non",
        "opt": {"oui_interne": {"beta": 1.6}, "oui_mutualise": {"delta": 1.4, "beta": 0.2}},
    },
    "cyber_formation_agents": {"t": {_NSP: 0.05}, "beta": 0.6},
    "cyber_formation_elus": {
        "t": {_NSP: 0.06}, "beta": 0.3, "bonus": {("cyber_formation_agents", "oui"): 1.5},
    },
    "cyber_sensibilisation": {
        "t": {_NSP: 0.05}, "beta": 0.6, "delta": 0.5,
        "bonus": {("cyber_formation_agents", "oui"): 1.2},
    },
    # --------------------------------------------------------- communication
    "communication_modes": {
        "t": {"reseaux_sociaux": 0.68, "bulletin_papier": 0.80, "lettre_information": 0.30,
              "application_mobile": 0.26, "panneau_numerique": 0.21, "alerte_sms": 0.17,
              "autre": 0.06},
        "filler": "bulletin_papier", "beta": 1.0,
        "opt": {"bulletin_papier": {"beta": 0.1}, "application_mobile": {"beta": -0.1}},
    },
    "communication_reseaux_sociaux": {
        "t": {"youtube": 0.12, "autre": 0.05}, "beta": 1.2,
        "opt": {"facebook": {"beta": 0.0}},
    },
    "communication_audit_accessibilite": {  # "peu de sites ont été audités"
        "t": {"oui": 0.15, _NSP: 0.16}, "beta": 1.0,
    },
    "communication_rgaa": {  # "peu de sites ont été mis en conformité"
        "t": {"oui": 0.12, "prevu": 0.13, _NSP: 0.15}, "beta": 1.0,
        "bonus": {("communication_audit_accessibilite", "oui"): 2.0},
    },
    "communication_retransmission": {"t": {_NSP: 0.02}, "beta": 1.4},
    "communication_participation_citoyenne": {  # "peu répandus"
        "t": {"oui": 0.13, "prevu": 0.07, _NSP: 0.03}, "beta": 1.2,
    },
    # ---------------------------------------------------------------- infra
    "infra_connexion": {
        "t": {"fibre": 0.62, "cuivre": 0.25, "mobile": 0.04, "radio_satellite": 0.03,
              _NSP: 0.06},
        "order": ("fibre", "mobile", "radio_satellite"), "rest": "cuivre",
        "opt": {"fibre": {"beta": 0.9, "gamma": 1.6}, "mobile": {"beta": -0.8},
                "radio_satellite": {"beta": -1.0, "gamma": -1.0}},
    },
    "infra_datacenter": {"t": {"oui": 0.08, _NSP: 0.12}, "beta": 1.2},  # "peu"
    "infra_offre_cloud": {"t": {"oui": 0.42, _NSP: 0.15}, "delta": 1.5},
    "infra_saas": {"t": {_NSP: 0.08}, "beta": 0.6, "delta": 0.4},
    "infra_wifi_territorial": {"t": {"oui": 0.24, _NSP: 0.06}, "beta": 0.8},  # "limitée"
    "infra_reseau_iot": {"t": {"oui": 0.09, _NSP: 0.12}, "beta": 1.0},  # "peu"
    # --------------------------------------------------------------- outils
    "outils_teletravail": {"t": {"oui": 0.58}, "beta": 1.5},
    "outils_charte_teletravail": {  # "seulement un tiers"
        "beta": 1.2, "requires": ("outils_teletravail", ("oui",)),
    },
    "outils_acces_distant": {  # "moins de la moitié offrant un accès complet"
        "t": {"oui": 0.44, "oui_partiellement": 0.30}, "beta": 1.0,
        "bonus": {("outils_teletravail", "oui"): 1.5},
    },
    "outils_vpn": {  # "demeure limitée"
        "t": {"oui": 0.35}, "beta": 1.3, "bonus": {("outils_acces_distant", "oui"): 1.2},
    },
    "outils_equipement_nomade": {
        "t": {"oui": 0.50}, "beta": 1.0, "bonus": {("outils_teletravail", "oui"): 2.0},
    },
    "outils_types": {
        "t": {"messagerie_professionnelle": 0.90, "agenda_partage": 0.45,
              "visioconference": 0.70, "stockage_partage": 0.50, "ent_intranet": 0.20,
              "ged": 0.25, "parapheur": 0.36, "messagerie_instantanee": 0.30, "autre": 0.05},
        "filler": "messagerie_professionnelle", "beta": 1.0,
    },
    "outils_support_logiciel": {
        "t": {"service_interne": 0.10, "structure_mutualisation": 0.22,
              "intercommunalite": 0.10, "editeur": 0.30, "prestataire": 0.15,
              "sans_support": 0.08, _NSP: 0.05},
        "order": ("service_interne", "structure_mutualisation", "sans_support",
                  "intercommunalite", "prestataire"),
        "rest": "editeur",
        "opt": {"service_interne": {"beta": 2.0}, "structure_mutualisation": {"delta": 1.8},
                "sans_support": {"beta": -1.2, "lam": -1.0}, "intercommunalite": {"beta": -0.4}},
    },
    # -------------------------------------------------------------- donnees
    "donnees_plan_rgpd": {  # "largement engagée dans la majorité des collectivités"
        "t": {"oui": 0.58, "prevu": 0.15, _NSP: 0.07}, "delta": 0.8,
    },
    "donnees_projet_ia": {"t": {"prevu": 0.10, _NSP: 0.05}, "beta": 1.5},
    "donnees_capteurs": {"t": {"oui": 0.08, "prevu": 0.06, _NSP: 0.04}, "beta": 1.4},
    "donnees_open_data": {"t": {"prevu": 0.10, _NSP: 0.05}, "beta": 1.3},
    "donnees_jeux_open_data": {
        "t": {"deliberations": 0.55, "budget": 0.45, "marches_publics": 0.35,
              "subventions": 0.25, "equipements": 0.30, "adresses": 0.40,
              "bornes_recharge": 0.10, "autre": 0.15},
        "spread": 1.0, "filler": "deliberations",
    },
    "donnees_api": {"t": {"oui": 0.10, _NSP: 0.20}, "beta": 1.4,
                    "bonus": {("donnees_open_data", "oui"): 1.5}},
    # ---------------------------------------------------------------- demat
    "demat_profil_acheteur": {"t": {"oui": 0.72}, "beta": 1.2},  # "forte adoption"
    "demat_urbanisme": {"beta": 0.8, "delta": 0.6},
    "demat_publication_actes": {"beta": 0.8},
    "demat_recensement_citoyen": {"beta": 0.5},
    "demat_registre_alerte": {"beta": 0.3},
    "demat_bulletins_paie": {"beta": 0.9},
    "demat_coffre_fort": {"beta": 0.9},
    # ------------------------------------------------------------- services
    "services_dispositif_recueil": {"t": {"oui": 0.20}, "beta": 2.5, "lam": 0.3},
    "services_rdv_cni": {"t": {"oui": 0.78}, "beta": 0.8},  # "la majorité le propose"
    "services_rdv_autres": {"t": {"oui": 0.22}, "beta": 1.0},  # "limitée"
    "services_prestations_payantes": {"beta": 1.2},
    "services_paiement_en_ligne": {"t": {"oui": 0.68}, "beta": 0.6},
    "services_en_ligne": {
        "t": {"reservation_equipements": 0.28, "signalement": 0.20, "autre": 0.10},
        "skip": 0.12, "skip_beta": 1.0, "beta": 1.0, "spread": 2.0,
    },
    "services_listes_electorales": {"beta": 0.4},
    # ------------------------------------------------------------ strategie
    "strategie_formation_agents": {"t": {"oui": 0.55, _NSP: 0.04}, "beta": 0.8},
    "strategie_themes_formations": {
        "t": {"cybersecurite": 0.62, "rgpd": 0.48, "bureautique": 0.40,
              "logiciels_metiers": 0.45, "culture_numerique": 0.20,
              "intelligence_artificielle": 0.12, "autre": 0.06},
        "filler": "cybersecurite",
    },
    "strategie_comprehension_enjeux": {  # "juste suffisant" pour une majorité
        "t": {"tres_satisfaisante": 0.04, "satisfaisante": 0.22, "juste_suffisante": 0.52},
        "beta": 0.5,
    },
    "strategie_difficultes_recrutement": {
        "t": {"oui": 0.60, "non_concerne": 0.25}, "beta": 0.4, "lam": 0.0,
        "opt": {"non_concerne": {"beta": -1.5}},
    },
    "strategie_causes_difficultes": {  # "particulièrement liées aux conditions salariales"
        "t": {"conditions_salariales": 0.64, "manque_candidats": 0.55,
              "attractivite_territoire": 0.35, "concurrence_prive": 0.40,
              "cadres_emplois": 0.18, "autre": 0.05},
        "filler": "conditions_salariales", "lam": 0.0,
    },
    "strategie_connaissance_pix": {"beta": 0.7},
    "strategie_deploiement_pix": {  # "encore trop peu déployé"
        "t": {"oui": 0.24, "prevu": 0.20, _NSP: 0.10}, "beta": 0.8,
    },
    "strategie_approche": {  # "trop souvent des approches non formalisées"
        "t": {"strategie_formalisee": 0.14, "strategie_en_cours": 0.18,
              "au_cas_par_cas": 0.46},
        "order": ("strategie_formalisee", "strategie_en_cours", "au_cas_par_cas"),
        "rest": "aucune", "ordinal": True, "beta": 1.2,
    },
    "strategie_feuille_de_route": {
        "beta": 0.6,
        "bonus": {("strategie_approche", "strategie_formalisee"): 4.0,
                  ("strategie_approche", "strategie_en_cours"): 1.5,
                  ("strategie_approche", "aucune"): -3.0},
    },
    "strategie_gouvernance_fdr": {  # "un bon taux de pilotage"
        "t": {"aucun": 0.07, "plan_actions": 0.72, "instances_gouvernance": 0.48,
              "roles_definis": 0.55, "indicateurs_suivi": 0.30, "budget_dedie": 0.25},
        "filler": "plan_actions",
    },
    "strategie_elu_numerique": {"t": {"oui": 0.48}, "beta": 1.0},
    "strategie_gestion_informatique": {
        "t": {"service_interne": 0.18, "mutualisee": 0.30, "externalisee": 0.27,
              "mixte": 0.15, "sans_organisation": 0.10},
        "order": ("service_interne", "sans_organisation", "mutualisee", "mixte"),
        "rest": "externalisee",
        "opt": {"service_interne": {"beta": 2.2}, "mutualisee": {"delta": 1.8},
                "sans_organisation": {"beta": -1.2, "lam": -1.0}, "mixte": {"beta": 0.8}},
    },
    "strategie_logiciels_libres": {  # "l'usage des logiciels libres reste minoritaire"
        "t": {"aucun": 0.55, "bureautique": 0.30, "navigateur_messagerie": 0.28,
              "systeme_exploitation": 0.04, "outils_collaboratifs": 0.10,
              "site_internet": 0.12, "logiciels_metiers": 0.06},
        "filler": "bureautique", "beta": 0.8,
    },
    "strategie_connaissance_reen": {"beta": 0.9},
    "strategie_numerique_responsable": {"t": {"oui": 0.35}, "beta": 1.0},
    "strategie_actions_numerique_responsable": {  # durée de vie, déchets en tête
        "t": {"duree_vie_equipements": 0.72, "gestion_dechets": 0.60,
              "achat_reconditionne": 0.35, "sobriete_usages": 0.40, "sensibilisation": 0.38,
              "ecoconception": 0.12, "autre": 0.04},
        "filler": "duree_vie_equipements",
    },
    "strategie_charte_informatique": {"t": {"oui": 0.38}, "beta": 1.1},
}  # fmt: skip

#: Mean share (%) of reconditioned hardware of the kinds without a published mean;
#: the EPCI/syndicat/statut particulier group is then set so that the overall mean
#: is the published 8.2 % (see :func:`barometre_geo.demo.answers.percentages`).
PERCENTAGE_TARGETS = {"zero_share": 0.42, "other_kinds": ("epci", "syndicat",
                      "collectivite_a_statut_particulier")}  # fmt: skip
