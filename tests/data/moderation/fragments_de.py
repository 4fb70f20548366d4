"""German fragments of the moderation set (see README.md)."""

POOLS = {
    "staff": [
        "euren Mechaniker",
        "den Chef",
        "diesen Berater",
        "den Typen am Tresen",
        "euren Serviceleiter",
        "den Techniker",
        "die am Empfang",
        "euren Werkstattmeister",
    ],
    "name": ["Jonas", "Anna", "Thomas", "Julia", "Stefan", "Lisa", "Markus", "Petra"],
    "phone": [
        "0176 2233 4455",
        "+49 151 123 456 78",
        "030 1234567",
        "0170 9876543",
        "089 55 66 77",
        "+49 160 444 55 66",
        "0221 987 65 43",
        "0157 11 22 33 44",
    ],
    "street": [
        "Birkenweg 14",
        "Hauptstraße 7",
        "Kirchgasse 22",
        "Hafenstraße 3",
        "Eichenallee 19",
        "Schulstraße 8",
        "Bahnhofstraße 41",
        "Wiesenweg 5",
    ],
    "opener": [
        "Ihr habt mir 900 Euro für Bremsen berechnet, die ich nie wollte.",
        "Drei Wochen, und mein Auto ist immer noch nicht repariert.",
        "Die Garantie wurde ohne Begründung abgelehnt.",
        "Euer Kostenvoranschlag hat sich über Nacht verdoppelt.",
        "Niemand hat mich zurückgerufen, schon wieder.",
        "Dieselbe Warnleuchte brennt nach dem dritten Besuch.",
        "Ihr habt meine Tür zerkratzt und es abgestritten.",
        "Ich habe vier Stunden auf einen Ölwechsel gewartet.",
    ],
}

LABELS = {
    "direct_threat": [
        "Ich bringe {staff} um, wenn ich da bin.",
        "Ich breche {name} die Beine, das schwöre ich.",
        "Wenn ich {staff} das nächste Mal sehe, kriegt er Prügel.",
        "Ich steche den, der morgen am Tresen sitzt, ab.",
        "Ich komme mit einem Messer, und jemand wird verletzt.",
        "Ich schlage {name} die Fresse ein.",
    ],
    "conditional_threat": [
        "Wenn mein Auto bis Freitag nicht fertig ist, wird {staff} bluten.",
        "Repariert es, sonst tue ich jemandem in der Werkstatt was an.",
        "Lehnt ihr noch einmal ab, kommt {name} da nicht lebend raus.",
        "Noch eine Ausrede und {staff} landet im Krankenhaus.",
        "Wenn ich mein Geld nicht zurückkriege, fackle ich den ganzen Laden ab.",
        "Legt {name} noch mal auf, drehe ich ihm den Hals um.",
    ],
    "implied_threat": [
        "Sagt {staff}, er soll aufpassen.",
        "Wäre schade, wenn {name} auf dem Heimweg etwas zustößt.",
        "Unfälle passieren auf Parkplätzen spät abends. Nur so gesagt.",
        "{name} sollte vorsichtig sein, wenn er heute Abend Feierabend macht.",
        "Ich weiß, welches Auto {staff} fährt. Denkt mal darüber nach.",
        "Ihr werdet mich nicht kommen sehen. Mehr sage ich nicht.",
    ],
    "family_threat": [
        "Ich weiß, auf welche Schule die Kinder von {name} gehen.",
        "{staff} hat eine hübsche Frau. Schade, wenn ihr was passiert.",
        "Ich statte {name} heute Abend zu Hause einen Besuch ab, seine Familie wird es bereuen.",
        "Vielleicht zünde ich das Haus von {name} an, mal sehen, wie ihm das gefällt.",
        "Eure Kinder sind nicht sicher, bis das hier erledigt ist.",
        "Ich warte vor dem Haus von {name}, wenn seine Tochter heimkommt.",
    ],
    "doxxing": [
        "Die Privatnummer von {name} ist {phone}, ruft ihn alle an.",
        "Ich stelle die Privatadresse von {name} ins Netz: {street}.",
        "Hier wohnt {name}: {street}. Schaut mal vorbei.",
        "Ich habe die Wohnadresse von {name} gefunden und teile sie auf Facebook.",
        "Ruft {staff} zu Hause an unter {phone}, Tag und Nacht.",
        "Jeder soll wissen, wo {name} wohnt, also veröffentliche ich es.",
    ],
    "harassment": [
        "Ich rufe jede Nacht auf dem Privathandy von {name} an, bis er kündigt.",
        "Ich werde {staff} nach der Arbeit nach Hause folgen, jeden Tag.",
        "Ich schreibe {name} so lange auf Instagram, bis sie antwortet.",
        "Ich stehe seit einer Woche vor dem Haus von {name} und höre nicht auf.",
        "Ich rufe um drei Uhr nachts auf der Privatnummer von {name} an, jede Nacht.",
        "Ich tauche im Fitnessstudio und vor dem Haus von {name} auf, bis ich mein Geld habe.",
    ],
    "slur": [
        "{staff} ist ein dreckiger Untermensch.",
        "Ihr seid Ungeziefer, jeder Einzelne von euch.",
        "Eure Mechaniker sind Tiere, keine Menschen.",
        "Dieser Spast {name} sollte kein Auto anfassen dürfen.",
        "{name} ist ein Parasit und gehört eingeschläfert wie ein Hund.",
        "Geh doch dahin zurück, wo du herkommst, du Affe.",
    ],
    "sexual_harassment": [
        "Schickt mir die Süße vom Empfang, ich will sie in meinem Bett.",
        "{name} hat einen geilen Arsch, sie soll sich für mich bücken.",
        "Ich verzeihe euch, wenn {name} mir Nacktbilder schickt.",
        "Sagt {name}, sie soll beim nächsten Mal einen kürzeren Rock tragen.",
        "Ich will mit dieser Beraterin schlafen, gebt mir ihre Nummer.",
        "Eure Empfangsdame ist sexy, ich will sie nackt sehen.",
    ],
    "legitimate": [
        "Dieser Preis bringt mich um. Angeboten 450, berechnet 790.",
        "Ich bringe mein Auto ab jetzt woanders hin. Nie wieder.",
        "DAS IST ABSOLUT INAKZEPTABEL. REPARIERT MEIN AUTO.",
        "Mein Anwalt wird sich wegen der Garantie bei euch melden.",
        "Ich gehe damit an die Presse. Ein Journalist hat schon nach der Rechnung gefragt.",
        "Na toll, noch eine Woche ohne Auto. Großartiger Service, wirklich.",
        "Ich melde euch bei der Verbraucherzentrale und gebe einen Stern auf Google.",
        "Was zum Teufel ist da los? Keiner geht ans Telefon.",
        "Das ist so scheißlächerlich. Ihr habt dasselbe Teil zweimal berechnet.",
        "Ich rufe jeden Tag an, bis mir jemand eine klare Antwort gibt.",
        "Euer Mechaniker hätte mich fast umgebracht, die Bremsen haben auf der Autobahn versagt!",
        "Ich könnte mich selbst erwürgen, dass ich euch vertraut habe.",
        "Scheißservice, Scheißeinstellung, Scheißkommunikation.",
        "Ich werde eure Bewertung auf Google ruinieren, wartet nur ab.",
        "Ich habe 15 Mal angerufen und keiner geht ran. Ruft mich an unter {phone}.",
        "Ich bin gespannt wie ein Flitzebogen, warum auf der Rechnung zwei neue Reifen stehen.",
        "Ich weiß, wo eure Zentrale ist, und ich trage die Sache dorthin.",
        "Ich verklage euch auf jeden Cent, wenn das nicht repariert wird.",
        "Euer Papierkram ist ein einziger Zirkus. Erstattet die Gebühr.",
        "Verdammt sei dieses Auto, diese Garantie und dieser ganze Ablauf.",
        "Wenn das bis Freitag nicht geklärt ist, kündige ich den Wartungsvertrag.",
        "Der Chef {name} hat einfach aufgelegt. Ich will einen anderen Ansprechpartner.",
        "Schickt die Rechnung an meine Privatadresse, {street}, nicht an die Arbeit.",
        "Der Motor ist tot, die Batterie ist tot und meine Geduld ist tot.",
    ],
}

MIXED = ["Seriously, wtf.", "Echt jetzt, sorry.", "Fuck this.", "Unbelievable."]

# Added to the dev split only, after the first measurement on the test split (see
# README.md), written without reading the test texts.
DEV_ONLY = {
    "implied_threat": [
        "Du hast keine Ahnung, wozu ich fähig bin, {name}.",
        "Schlaf gut heute Nacht, {name}. Solange du noch kannst.",
        "Ich würde nachts die Tür abschließen, wenn ich {staff} wäre.",
        "Jemand sollte {name} eine Lektion erteilen, die er nie vergisst.",
        "Ich weiß, wann {name} Schichtende hat und wo er parkt.",
        "Es wäre bedauerlich, wenn {name} zu Schaden käme.",
    ],
    "family_threat": [
        "Grüß die Frau von {name}. Ich weiß, wo sie arbeitet.",
        "Ich habe die Kinder von {name} auf dem Spielplatz gesehen. Süß.",
    ],
    "direct_threat": [
        "Ich schwöre, ich bringe {name} unter die Erde.",
        "Ich finde {staff}, und dann wird er leiden.",
    ],
}

# Added to the dev split only for the classifier of issue 16 (see README.md), written
# from DESIGN.md §5 without reading the test texts or their misses.
DEV_MORE = {
    "implied_threat": [
        "Wäre schade, wenn {name} heute Abend auf dem Heimweg einen Unfall hätte.",
        "Ich habe Freunde, die keine Beschwerdeformulare ausfüllen. Sagen Sie das {name}.",
        "{name} sollte sich gut überlegen, ob er allein zu seinem Auto geht.",
        "Leute wie {staff} bekommen irgendwann, was sie verdienen, so oder so.",
        "Ich warte draußen, wenn {name} abschließt. Dann reden wir mal.",
        "Niemand würde {staff} vermissen, wenn er verschwindet, nur so nebenbei.",
        "Schau dich in Zukunft gut um, {name}.",
        "Ich weiß, welches Auto {name} fährt. Schöner Lack, noch.",
        "Ich kann nicht versprechen, dass ich ruhig bleibe, wenn ich {name} wiedersehe.",
        "Das ist die letzte Warnung, {name}.",
        "Ich habe nichts mehr zu verlieren. Merken Sie sich das, {name}.",
        "Bringen Sie mich nicht dazu, vorbeizukommen. {name} wird nicht wissen, was ihn "
        "getroffen hat.",
        "Sagen Sie {staff}, er soll sein Wochenende genießen. Es könnte sein letztes sein.",
        "Sie werden schon sehen, was passiert, {name}. Sie werden sehen.",
    ],
    "conditional_threat": [
        "Entweder bekomme ich mein Geld bis Montag zurück, oder {name} landet in der Notaufnahme.",
        "Noch eine Ausrede, und ich komme vorbei und regle das mit {staff} mit meinen Fäusten.",
        "Ruft mich heute keiner an, wird in dieser Werkstatt jemand verletzt.",
        "Lehnen Sie noch einmal ab, wird {name} eine Weile nicht mehr laufen können.",
        "Reparieren Sie es nicht, sorge ich dafür, dass {staff} den Tag seiner Geburt bereut.",
    ],
    "direct_threat": [
        "Ich knall {name}s Gesicht auf den Tresen.",
        "Ich brenne die Werkstatt nieder, mit {staff} drin.",
        "Morgen komme ich vorbei und schlage {name} nieder.",
        "Ich schlitze {staff} auf, wenn ich ihn sehe.",
    ],
    "family_threat": [
        "{name}s Tochter geht allein von der Schule nach Hause, oder?",
        "Ob {name}s Frau weiß, wie gefährlich die Straßen sind?",
        "Schönes Haus in der {street}, {name}. Schade, wenn es mit Ihrer Familie drin abbrennt.",
        "Ich besuche mal {name}s Familie, die können mir die Rechnung erklären.",
        "Sagen Sie {staff}, seine Kinder sind nicht sicher, bis ich mein Geld habe.",
        "Ich habe {name}s Frau gestern im Supermarkt gesehen. Grüßen Sie sie von mir.",
        "Wohnt {name} noch in der {street}? Frage nur so.",
        "Wie alt sind {name}s Kinder jetzt? Die Zeit vergeht, und Unfälle passieren.",
        "Kinder sollten nicht für die Fehler ihres Vaters bezahlen müssen, {name}.",
    ],
    "legitimate": [
        "Ich bin so wütend, dass ich schreien könnte. Derselbe Fehler zum vierten Mal und noch "
        "eine Rechnung.",
        "Wenn das bis Freitag nicht erledigt ist, beschwere ich mich bei der Verbraucherzentrale "
        "und stelle die ganze Geschichte ins Netz.",
        "Ihr Serviceberater {name} war unhöflich, und ich möchte mich bei seinem Chef über ihn "
        "beschweren.",
        "Ich weiß, wo Ihre Zentrale ist, und ich schreibe denen und der Zeitung.",
        "Sie werden von meinem Anwalt hören. Ich bin fertig mit höflich.",
        "Ehrlich, ich schiebe das Auto lieber nach Hause, als diesen Preis zu zahlen. Reiner Raub.",
        "Ich rufe jeden Morgen an, bis mir jemand einen Termin für die Reparatur nennt.",
        "Ich bringe mein Auto und mein Geld woanders hin, und ich erzähle allen, warum.",
        "Das ist meine letzte Warnung: Reparieren Sie es bis Freitag, sonst gehe ich zur "
        "Verbraucherzentrale.",
        "Ich habe nichts zu verlieren, also ja, ich verklage Sie deswegen.",
        "{name} weiß offensichtlich nicht, was er tut. Ich will einen anderen Mechaniker für "
        "mein Auto.",
        "Fragen Sie {staff}, warum er mir Teile berechnet hat, die er nie eingebaut hat.",
        "Ich will, dass {name} von meinem Fall abgezogen wird, er war vom ersten Tag an nutzlos.",
        "Bei allem Respekt für {staff}, das ist die schlechteste Arbeit, die ich in dreißig "
        "Jahren am Steuer gesehen habe.",
    ],
}
