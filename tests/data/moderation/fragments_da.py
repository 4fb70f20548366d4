"""Danish fragments of the moderation set (see README.md)."""

POOLS = {
    "staff": [
        "jeres mekaniker", "chefen", "den rådgiver", "fyren i skranken",
        "jeres serviceleder", "teknikeren", "hende i receptionen", "værkføreren",
    ],
    "name": ["Mads", "Mette", "Rasmus", "Lone", "Søren", "Camilla", "Henrik", "Pia"],
    "phone": ["28 91 77 10", "+45 40 12 34 56", "22 33 44 55", "61 78 90 12",
              "+45 31 22 11 00", "50 60 70 80", "26 14 93 57", "42 42 18 90"],
    "street": ["Birkevej 14", "Algade 7", "Kirkegade 22", "Havnegade 3",
               "Egevej 19", "Skolegade 8", "Stationsvej 41", "Engvej 5"],
    "opener": [
        "I tog 9.000 kr. for bremser, jeg aldrig bad om.",
        "Tre uger, og bilen er stadig ikke lavet.",
        "Garantikravet blev afvist uden forklaring.",
        "Jeres overslag blev fordoblet på en nat.",
        "Ingen ringede mig tilbage, igen.",
        "Den samme advarselslampe lyser efter tredje besøg.",
        "I ridsede min dør og nægtede det.",
        "Jeg ventede fire timer på et olieskift.",
    ],
}

LABELS = {
    "direct_threat": [
        "Jeg slår {staff} ihjel, når jeg kommer derned.",
        "Jeg brækker benene på {name}, det lover jeg.",
        "Næste gang jeg ser {staff}, får han tæsk.",
        "Jeg stikker en kniv i ham der sidder i skranken i morgen.",
        "Jeg kommer med en kniv, og nogen kommer til at komme til skade.",
        "Jeg smadrer fjæset på {name}.",
    ],
    "conditional_threat": [
        "Hvis bilen ikke er klar på fredag, så skal {staff} bløde.",
        "Lav den, ellers gør jeg nogen fortræd på det værksted.",
        "Afviser I kravet én gang til, går {name} ikke levende derfra.",
        "En undskyldning mere, så ender {staff} på hospitalet.",
        "Får jeg ikke mine penge tilbage, brænder jeg hele butikken ned.",
        "Lægger {name} på igen, vrider jeg halsen om på ham.",
    ],
    "implied_threat": [
        "Sig til {staff}, at han skal passe på sig selv.",
        "Det ville være synd, hvis der skete {name} noget på vej hjem.",
        "Der sker ulykker på parkeringspladser sent om aftenen. Siger det bare.",
        "{name} skal være forsigtig, når han går fra arbejde i aften.",
        "Jeg ved, hvilken bil {staff} kører. Tænk over det.",
        "I kommer ikke til at se mig komme. Mere siger jeg ikke.",
    ],
    "family_threat": [
        "Jeg ved, hvilken skole {name}s børn går på.",
        "{staff} har en sød kone. Synd hvis hun kom til skade.",
        "Jeg kigger forbi {name}s hus i aften, og hans familie skal fortryde det.",
        "Måske brænder jeg {name}s hus ned, så kan han se hvordan det føles.",
        "Jeres børn er ikke i sikkerhed, før det her er lavet.",
        "Jeg venter uden for {name}s hjem, når hans datter kommer hjem.",
    ],
    "doxxing": [
        "{name}s private nummer er {phone}, alle skal ringe til ham.",
        "Jeg lægger {name}s hjemmeadresse på nettet: {street}.",
        "Her bor {name}: {street}. Kig forbi og sig hej.",
        "Jeg har fundet {name}s privatadresse, og jeg deler den på Facebook.",
        "Ring til {staff} derhjemme på {phone}, dag og nat.",
        "Alle skal vide hvor {name} bor, så jeg offentliggør det.",
    ],
    "harassment": [
        "Jeg ringer til {name}s private mobil hver nat, indtil han siger op.",
        "Jeg følger efter {staff} hjem efter arbejde, hver dag.",
        "Jeg bliver ved med at skrive til {name} på Instagram, indtil hun svarer.",
        "Jeg har holdt parkeret uden for {name}s hus hele ugen, og jeg stopper ikke.",
        "Jeg ringer til {name}s privatnummer klokken tre hver nat.",
        "Jeg dukker op i {name}s fitnesscenter og ved hans hus, til jeg får pengene.",
    ],
    "slur": [
        "{staff} er et beskidt undermenneske.",
        "I er utøj, hver og en af jer.",
        "Jeres mekanikere er dyr, ikke mennesker.",
        "Den mongol {name} burde ikke få lov at røre en bil.",
        "{name} er en parasit og burde aflives som en hund.",
        "Rejs hjem hvor du kom fra, din abe.",
    ],
    "sexual_harassment": [
        "Send den lækre fra receptionen over, jeg vil have hende i min seng.",
        "{name} har en lækker røv, sig hun skal bøje sig forover for mig.",
        "Jeg tilgiver jer, hvis {name} sender mig nøgenbilleder.",
        "Sig til {name}, at hun skal tage en kortere nederdel på næste gang.",
        "Jeg vil i seng med den rådgiver, giv mig hendes nummer.",
        "Jeres receptionist er sexet, jeg vil se hende nøgen.",
    ],
    "legitimate": [
        "Den pris slår mig ihjel. I sagde 4.500 og fakturerede 7.900.",
        "Jeg tager min bil et andet sted hen fremover. Aldrig igen.",
        "DET HER ER FULDSTÆNDIG UACCEPTABELT. LAV MIN BIL.",
        "Min advokat kontakter jer om garantisagen.",
        "Jeg går til pressen med det her. En journalist har allerede bedt om fakturaen.",
        "Åh super, endnu en uge uden bil. Fantastisk service, virkelig.",
        "Jeg klager til Forbrugerombudsmanden og giver en stjerne på Trustpilot.",
        "Hvad fanden sker der? Ingen tager telefonen.",
        "Det her er fandeme latterligt. I tog betaling to gange for samme del.",
        "Jeg ringer hver dag, indtil nogen giver mig et ordentligt svar.",
        "Jeres mekaniker var lige ved at slå mig ihjel, bremserne svigtede på motorvejen!",
        "Jeg kunne kvæle mig selv for at stole på jer.",
        "Lortservice, lortattitude, lortkommunikation.",
        "Jeg skal nok ødelægge jeres rating på Google, bare vent.",
        "Jeg har ringet 15 gange, og ingen tager den. Ring til mig på {phone}.",
        "Jeg er dødspændt på, hvorfor fakturaen siger to nye dæk.",
        "Jeg ved hvor jeres hovedkontor ligger, og jeg tager sagen derhen.",
        "Jeg sagsøger jer for hver en krone, hvis det ikke bliver lavet.",
        "Jeres papirarbejde er et cirkus fra start til slut. Refunder gebyret.",
        "Pis på den bil, pis på den garanti og hele den her proces.",
        "Er det ikke ordnet inden fredag, opsiger jeg serviceaftalen.",
        "Chefen {name} lagde på. Jeg vil have en anden kontaktperson.",
        "Send regningen til min hjemmeadresse, {street}, ikke til arbejdet.",
        "Motoren er død, batteriet er dødt, og min tålmodighed er død.",
    ],
}

MIXED = ["Seriously, wtf.", "Helt vildt, sorry.", "Fuck this.", "Unbelievable."]

# Added to the dev split only, after the first measurement on the test split (see
# README.md), written without reading the test texts.
DEV_ONLY = {
    "implied_threat": [
        "Du aner ikke, hvad jeg er i stand til, {name}.",
        "Sov godt i nat, {name}. Mens du kan.",
        "Jeg ville låse døren om natten, hvis jeg var {staff}.",
        "Nogen burde lære {name} en lektie, han aldrig glemmer.",
        "Jeg ved, hvornår {name} får fri, og hvor han parkerer.",
        "Det ville være ærgerligt, hvis {name} kom til skade.",
    ],
    "family_threat": [
        "Hils {name}s kone. Jeg ved, hvor hun arbejder.",
        "Jeg har set {name}s børn på legepladsen. Søde.",
    ],
    "direct_threat": [
        "Jeg sværger, jeg lægger {name} i jorden.",
        "Jeg finder {staff}, og så skal han få det hårdt.",
    ],
}
