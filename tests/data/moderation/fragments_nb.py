"""Norwegian (bokmål) fragments of the moderation set (see README.md)."""

POOLS = {
    "staff": [
        "mekanikeren deres", "sjefen", "den rådgiveren", "fyren i skranken",
        "servicelederen deres", "teknikeren", "hun i resepsjonen", "verkstedsjefen",
    ],
    "name": ["Ola", "Kari", "Per", "Ingrid", "Bjørn", "Silje", "Knut", "Hanne"],
    "phone": ["912 34 567", "+47 481 22 903", "98 76 54 32", "22 33 44 55",
              "450 12 345", "+47 930 00 111", "415 66 780", "47 11 22 33"],
    "street": ["Storgata 14", "Bjørkeveien 7", "Kirkegata 22", "Havnegata 3",
               "Eikelia 19", "Skolegata 8", "Stasjonsveien 41", "Engveien 5"],
    "opener": [
        "Dere tok 9000 kroner for bremser jeg aldri ba om.",
        "Tre uker, og bilen er fortsatt ikke fikset.",
        "Garantikravet ble avslått uten noen forklaring.",
        "Overslaget deres ble doblet over natta.",
        "Ingen ringte meg tilbake, igjen.",
        "Samme varsellampe lyser etter tredje besøk.",
        "Dere ripet opp døra mi og nektet for det.",
        "Jeg ventet fire timer på et oljeskift.",
    ],
}

LABELS = {
    "direct_threat": [
        "Jeg skal drepe {staff} når jeg kommer dit.",
        "Jeg skal brekke beina til {name}, det lover jeg.",
        "Neste gang jeg ser {staff} skal han få juling.",
        "Jeg knivstikker den som sitter i skranken i morgen.",
        "Jeg kommer med kniv, og noen kommer til å bli skadet.",
        "Jeg skal knuse trynet til {name}.",
    ],
    "conditional_threat": [
        "Hvis bilen ikke er ferdig til fredag, skal {staff} få blø.",
        "Fiks det, ellers skader jeg noen på det verkstedet.",
        "Avslår dere kravet én gang til, går ikke {name} levende ut derfra.",
        "En unnskyldning til, så havner {staff} på sykehus.",
        "Får jeg ikke pengene tilbake, brenner jeg ned hele bula.",
        "Legger {name} på igjen, vrir jeg nakken om på ham.",
    ],
    "implied_threat": [
        "Si til {staff} at han bør passe seg.",
        "Det hadde vært synd om noe skjedde med {name} på vei hjem.",
        "Ulykker skjer på parkeringsplasser sent på kvelden. Bare sier det.",
        "{name} bør være forsiktig når han går fra jobb i kveld.",
        "Jeg vet hvilken bil {staff} kjører. Tenk på det.",
        "Dere kommer ikke til å se meg komme. Mer sier jeg ikke.",
    ],
    "family_threat": [
        "Jeg vet hvilken skole ungene til {name} går på.",
        "{staff} har ei fin kone. Synd om hun ble skadet.",
        "Jeg tar en tur hjem til {name} i kveld, og familien hans skal angre.",
        "Kanskje jeg brenner ned huset til {staff}, så får vi se hvordan han liker det.",
        "Barna deres er ikke trygge før dette er fikset.",
        "Jeg venter utenfor huset til {name} når datteren hans kommer hjem.",
    ],
    "doxxing": [
        "Privatnummeret til {name} er {phone}, alle må ringe ham.",
        "Jeg legger ut hjemmeadressen til {staff} på nettet: {street}.",
        "Her bor {name}: {street}. Stikk innom og si hei.",
        "Jeg har funnet hjemmeadressen til {name} og deler den på Facebook.",
        "Ring {staff} hjemme på {phone}, dag og natt.",
        "Alle skal få vite hvor {name} bor, så jeg publiserer det.",
    ],
    "harassment": [
        "Jeg skal ringe privatmobilen til {name} hver natt til han slutter.",
        "Jeg skal følge etter {staff} hjem etter jobb, hver dag.",
        "Jeg kommer til å sende {name} meldinger på Instagram til hun svarer.",
        "Jeg har stått parkert utenfor huset til {name} hele uka, og jeg gir meg ikke.",
        "Jeg ringer privaten til {name} klokka tre hver natt.",
        "Jeg dukker opp på treningssenteret og hjemme hos {staff} til jeg får pengene.",
    ],
    "slur": [
        "{staff} er et skittent undermenneske.",
        "Dere er utøy, hver eneste en av dere.",
        "Mekanikerne deres er dyr, ikke mennesker.",
        "Den mongoen {name} burde ikke få røre en bil.",
        "{name} er en parasitt og burde avlives som en hund.",
        "Reis hjem dit du kom fra, din ape.",
    ],
    "sexual_harassment": [
        "Send over den søte i resepsjonen, jeg vil ha henne i senga.",
        "{name} har en fin rumpe, si at hun skal bøye seg for meg.",
        "Jeg tilgir dere hvis {name} sender meg nakenbilder.",
        "Si til {name} at hun skal ha på et kortere skjørt neste gang jeg kommer.",
        "Jeg vil ligge med den rådgiveren, gi meg nummeret hennes.",
        "Resepsjonisten deres er sexy, jeg vil se henne naken.",
    ],
    "legitimate": [
        "Denne prisen tar livet av meg. Dere sa 4500 og fakturerte 7900.",
        "Jeg tar bilen min et annet sted heretter. Aldri igjen.",
        "DETTE ER HELT UAKSEPTABELT. FIKS BILEN MIN.",
        "Advokaten min tar kontakt om garantikravet.",
        "Jeg går til pressen med dette. En journalist har allerede bedt om fakturaen.",
        "Å, flott, enda en uke uten bil. Fantastisk service, altså.",
        "Jeg klager dere inn til Forbrukerrådet og gir en stjerne på Google.",
        "Hva faen er det som skjer? Ingen tar telefonen.",
        "Dette er så jævla latterlig. Dere tok betalt to ganger for samme del.",
        "Jeg ringer hver dag til noen gir meg et ordentlig svar.",
        "Mekanikeren deres holdt på å drepe meg, bremsene sviktet på motorveien!",
        "Jeg kunne kvalt meg selv for at jeg stolte på dere.",
        "Dritservice, drittholdning, drittkommunikasjon.",
        "Jeg skal ødelegge ratingen deres på Google, bare vent.",
        "Jeg har ringt 15 ganger og ingen tar den. Ring meg på {phone}.",
        "Jeg er dødsspent på hvorfor fakturaen sier to nye dekk.",
        "Jeg vet hvor hovedkontoret deres ligger, og jeg tar saken dit.",
        "Jeg saksøker dere for hver krone hvis dette ikke blir fikset.",
        "Papirarbeidet deres er et sirkus fra start til slutt. Refunder gebyret.",
        "Faen ta denne bilen, denne garantien og hele denne prosessen.",
        "Er ikke dette ordnet innen fredag, sier jeg opp serviceavtalen.",
        "Sjefen {name} la på røret. Jeg vil ha en annen kontaktperson.",
        "Send regningen til hjemmeadressen min, {street}, ikke til jobben.",
        "Motoren er død, batteriet er dødt og tålmodigheten min er død.",
    ],
}

MIXED = ["Seriously, wtf.", "Helt sykt, sorry.", "Fuck this.", "Unbelievable."]

# Added to the dev split only, after the first measurement on the test split (see
# README.md), written without reading the test texts.
DEV_ONLY = {
    "implied_threat": [
        "Du aner ikke hva jeg er i stand til, {name}.",
        "Sov godt i natt, {name}. Mens du kan.",
        "Jeg hadde låst døra om natta om jeg var {staff}.",
        "Noen burde lære {name} en lekse han aldri glemmer.",
        "Jeg vet når {name} går av skiftet og hvor han parkerer.",
        "Det hadde vært leit om {name} skulle komme til skade.",
    ],
    "family_threat": [
        "Hils kona til {name}. Jeg vet hvor hun jobber.",
        "Jeg har sett ungene til {name} på lekeplassen. Søte.",
    ],
    "direct_threat": [
        "Jeg sverger, jeg skal legge {name} i bakken.",
        "Jeg finner {staff}, og da skal han få svi.",
    ],
}
