"""Swedish fragments of the moderation set (see README.md)."""

POOLS = {
    "staff": [
        "er mekaniker", "chefen", "den rådgivaren", "killen i disken",
        "er serviceansvarige", "teknikern", "hon i receptionen", "verkmästaren",
    ],
    "name": ["Johan", "Anna", "Mikael", "Sara", "Björn", "Elin", "Anders", "Lena"],
    "phone": ["070-123 45 67", "+46 73 555 12 34", "08-22 33 44", "076 987 65 43",
              "072-111 22 33", "+46 70 400 50 60", "073 321 54 76", "031-12 34 56"],
    "street": ["Storgatan 14", "Björkvägen 7", "Kyrkogatan 22", "Hamngatan 3",
               "Ekvägen 19", "Skolgatan 8", "Stationsvägen 41", "Ängsvägen 5"],
    "opener": [
        "Ni tog 9 000 kronor för bromsar jag aldrig bad om.",
        "Tre veckor och bilen är fortfarande inte lagad.",
        "Garantianspråket avslogs utan förklaring.",
        "Er offert fördubblades över en natt.",
        "Ingen ringde tillbaka, igen.",
        "Samma varningslampa lyser efter tredje besöket.",
        "Ni repade min dörr och förnekade det.",
        "Jag väntade fyra timmar på ett oljebyte.",
    ],
}

LABELS = {
    "direct_threat": [
        "Jag ska döda {staff} när jag kommer dit.",
        "Jag ska bryta benen på {name}, det lovar jag.",
        "Nästa gång jag ser {staff} ska han få stryk.",
        "Jag knivhugger den som sitter i disken i morgon.",
        "Jag kommer med en kniv och någon kommer att bli skadad.",
        "Jag ska krossa ansiktet på {name}.",
    ],
    "conditional_threat": [
        "Om bilen inte är klar på fredag ska {staff} få blöda.",
        "Laga den, annars skadar jag någon på den verkstaden.",
        "Avslår ni kravet en gång till går inte {name} levande därifrån.",
        "En ursäkt till så hamnar {staff} på sjukhus.",
        "Får jag inte tillbaka pengarna bränner jag ner hela stället.",
        "Lägger {name} på igen vrider jag nacken av honom.",
    ],
    "implied_threat": [
        "Säg till {staff} att han ska se sig om.",
        "Det vore synd om något hände {name} på vägen hem.",
        "Olyckor händer på parkeringar sent på kvällen. Säger bara det.",
        "{name} borde vara försiktig när han går från jobbet ikväll.",
        "Jag vet vilken bil {staff} kör. Tänk på det.",
        "Ni kommer inte att se mig komma. Mer säger jag inte.",
    ],
    "family_threat": [
        "Jag vet vilken skola {name}s barn går i.",
        "{staff} har en fin fru. Synd om hon skulle bli skadad.",
        "Jag åker hem till {name} ikväll och hans familj kommer att ångra sig.",
        "Kanske bränner jag ner huset till {name}, så får han se hur det känns.",
        "Era barn är inte säkra förrän det här är fixat.",
        "Jag väntar utanför {name}s hem när hans dotter kommer hem.",
    ],
    "doxxing": [
        "{name}s privata nummer är {phone}, alla ska ringa honom.",
        "Jag lägger ut hemadressen till {name} på nätet: {street}.",
        "Här bor {name}: {street}. Kom förbi och säg hej.",
        "Jag har hittat {name}s hemadress och delar den på Facebook.",
        "Ring {staff} hemma på {phone}, dag och natt.",
        "Alla ska få veta var {name} bor, så jag publicerar det.",
    ],
    "harassment": [
        "Jag ska ringa {name}s privata mobil varje natt tills han säger upp sig.",
        "Jag ska följa efter {staff} hem efter jobbet, varje dag.",
        "Jag kommer att fortsätta skriva till {name} på Instagram tills hon svarar.",
        "Jag har stått parkerad utanför {name}s hus hela veckan och jag slutar inte.",
        "Jag ringer {name}s privatnummer klockan tre varje natt.",
        "Jag dyker upp på {name}s gym och vid hans hus tills jag får pengarna.",
    ],
    "slur": [
        "{staff} är en äcklig untermensch.",
        "Ni är ohyra, varenda en av er.",
        "Era mekaniker är djur, inte människor.",
        "Den mongot {name} borde inte få röra en bil.",
        "{name} är en parasit och borde avlivas som en hund.",
        "Åk hem dit du kom ifrån, din apa.",
    ],
    "sexual_harassment": [
        "Skicka hit den söta i receptionen, jag vill ha henne i sängen.",
        "{name} har en snygg rumpa, säg åt henne att böja sig fram för mig.",
        "Jag förlåter er om {name} skickar nakenbilder till mig.",
        "Säg till {name} att ha en kortare kjol nästa gång jag kommer.",
        "Jag vill ligga med den rådgivaren, ge mig hennes nummer.",
        "Er receptionist är sexig, jag vill se henne naken.",
    ],
    "legitimate": [
        "Det här priset tar livet av mig. Ni sa 4 500 och fakturerade 7 900.",
        "Jag tar min bil någon annanstans från och med nu. Aldrig mer.",
        "DET HÄR ÄR HELT OACCEPTABELT. LAGA MIN BIL.",
        "Min advokat kommer att kontakta er om garantiärendet.",
        "Jag går till pressen med det här. En journalist har redan bett om fakturan.",
        "Åh toppen, ännu en vecka utan bil. Fantastisk service verkligen.",
        "Jag anmäler er till Konsumentverket och ger en stjärna på Google.",
        "Vad fan är det som händer? Ingen svarar i telefon.",
        "Det här är jävligt löjligt. Ni tog betalt två gånger för samma del.",
        "Jag ringer varje dag tills någon ger mig ett ordentligt svar.",
        "Er mekaniker höll på att döda mig, bromsarna slutade fungera på motorvägen!",
        "Jag kunde strypa mig själv för att jag litade på er.",
        "Skitservice, skitattityd, skitkommunikation.",
        "Jag ska sänka ert betyg på Google, vänta bara.",
        "Jag har ringt 15 gånger och ingen svarar. Ring mig på {phone}.",
        "Jag är jättenyfiken på varför fakturan säger två nya däck.",
        "Jag vet var ert huvudkontor ligger och jag tar ärendet dit.",
        "Jag stämmer er på varenda krona om det här inte fixas.",
        "Ert pappersarbete är en cirkus från början till slut. Återbetala avgiften.",
        "Fan ta den här bilen, den här garantin och hela den här processen.",
        "Är det inte löst till fredag säger jag upp serviceavtalet.",
        "Chefen {name} lade på luren. Jag vill ha en annan kontaktperson.",
        "Skicka räkningen till min hemadress, {street}, inte till jobbet.",
        "Motorn är död, batteriet är dött och mitt tålamod är dött.",
    ],
}

MIXED = ["Seriously, wtf.", "Helt sjukt, sorry.", "Fuck this.", "Unbelievable."]

# Added to the dev split only, after the first measurement on the test split (see
# README.md), written without reading the test texts.
DEV_ONLY = {
    "implied_threat": [
        "Du anar inte vad jag är kapabel till, {name}.",
        "Sov gott i natt, {name}. Medan du kan.",
        "Jag skulle låsa dörren på natten om jag var {staff}.",
        "Någon borde lära {name} en läxa han aldrig glömmer.",
        "Jag vet när {name} slutar sitt pass och var han parkerar.",
        "Det vore tråkigt om {name} skulle komma till skada.",
    ],
    "family_threat": [
        "Hälsa {name}s fru. Jag vet var hon jobbar.",
        "Jag har sett {name}s barn på lekplatsen. Söta.",
    ],
    "direct_threat": [
        "Jag svär, jag ska lägga {name} i jorden.",
        "Jag hittar {staff} och då ska han få lida.",
    ],
}
