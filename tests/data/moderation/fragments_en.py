"""English fragments of the moderation set (see README.md).

Each list of templates is split by position: even positions go to dev, odd ones to
test. Slot pools are split the same way, so a test text shares neither its
template nor its fill with a dev text.
"""

POOLS = {
    "staff": [
        "your mechanic",
        "the manager",
        "that advisor",
        "the guy at the desk",
        "your service manager",
        "the technician",
        "that receptionist",
        "your workshop foreman",
    ],
    "name": ["Lars", "Mette", "Jonas", "Karin", "Erik", "Sofie", "Anders", "Linda"],
    "phone": [
        "+47 912 34 567",
        "0176 2233 4455",
        "98 76 54 32",
        "070-123 45 67",
        "22 33 44 55",
        "+45 28 91 77 10",
        "07700 900123",
        "412 88 903",
    ],
    "street": [
        "14 Birch Road",
        "Elm Street 7",
        "22 Mill Lane",
        "3 Harbour View",
        "Oak Avenue 19",
        "8 Church Close",
        "Station Road 41",
        "5 Meadow Way",
    ],
    "opener": [
        "You charged me 9,000 for brakes I never asked for.",
        "Three weeks and my car is still not fixed.",
        "The warranty claim was denied without explanation.",
        "Your estimate doubled overnight.",
        "Nobody called me back, again.",
        "The same warning light is on after the third visit.",
        "You scratched my door and denied it.",
        "I waited four hours for an oil change.",
    ],
}

LABELS = {
    "direct_threat": [
        "I'm going to kill {staff} when I get there.",
        "I will break {name}'s legs, I swear.",
        "Next time I see {staff} I'll beat him senseless.",
        "I'll stab whoever is on the desk tomorrow.",
        "I am coming in with a knife and someone will get hurt.",
        "I'm going to smash {name}'s face in.",
    ],
    "conditional_threat": [
        "If my car isn't ready by Friday, I'll make {staff} bleed.",
        "Fix it or I will hurt somebody in that workshop.",
        "If you deny this claim one more time, {name} won't walk out of there.",
        "One more excuse and I'll put {staff} in hospital.",
        "Unless I get my money back, I'll burn the place to the ground.",
        "If {name} hangs up on me again, I'll wring his neck.",
    ],
    "implied_threat": [
        "Tell {staff} to watch his back.",
        "It would be a shame if something happened to {name} on the way home.",
        "Accidents happen in car parks late at night. Just saying.",
        "{name} should be careful when he leaves work tonight.",
        "I know what car {staff} drives. Think about that.",
        "You won't see me coming. That's all I'll say.",
    ],
    "family_threat": [
        "I know where {name}'s kids go to school.",
        "{staff} has a lovely wife. Would be a pity if she got hurt.",
        "I'll pay a visit to {name}'s house tonight and his family will regret this.",
        "Maybe I'll burn down {staff}'s house, see how he likes it.",
        "Your children won't be safe until this is fixed.",
        "I'll be waiting outside {name}'s home when his daughter gets back.",
    ],
    "doxxing": [
        "{name}'s private number is {phone}, everyone call him.",
        "I'm posting {staff}'s home address online: {street}.",
        "Here's where {name} lives: {street}. Go say hi.",
        "I found {name}'s home address and I'm sharing it on Facebook.",
        "Call {staff} at home on {phone}, day and night.",
        "Everyone should know where {name} lives, so I'm publishing it.",
    ],
    "harassment": [
        "I'll call {name}'s personal phone every night until he quits.",
        "I'm going to follow {staff} home after work, every day.",
        "I will keep messaging {name} on Instagram until she answers me.",
        "I've been parked outside {name}'s house all week and I'm not stopping.",
        "I'll ring {name}'s private mobile at 3 am every night.",
        "I will show up at {staff}'s gym and his house until I get my money.",
    ],
    "slur": [
        "{staff} is a filthy subhuman.",
        "You're all vermin, every last one of you.",
        "Your mechanics are animals, not people.",
        "That retard {name} should not be allowed near a car.",
        "{name} is a parasite and should be put down like a dog.",
        "Go back to where you came from, you monkey.",
    ],
    "sexual_harassment": [
        "Send the cute receptionist over, I want her in my bed.",
        "{name} has a nice ass, tell her to bend over for me.",
        "I'll forgive you if {name} sends me nudes.",
        "Tell {name} to wear a shorter skirt next time I come in.",
        "I want to sleep with that advisor, give me her number.",
        "Your receptionist is sexy, I want to see her naked.",
    ],
    "legitimate": [
        "This price is killing me. You quoted 4,500 and billed 7,900.",
        "I'll take my car elsewhere from now on. Never again.",
        "THIS IS ABSOLUTELY UNACCEPTABLE. FIX MY CAR.",
        "My lawyer will be in touch about the warranty claim.",
        "I'm going to the press with this. A journalist already asked me for the invoice.",
        "Oh great, another week without a car. Fantastic service, really.",
        "I'm reporting you to the Consumer Council and leaving a one-star review.",
        "What the hell is going on? Nobody answers the phone.",
        "This is fucking ridiculous. You charged me twice for the same part.",
        "I'll call every day until someone gives me a straight answer.",
        "Your mechanic nearly killed me, the brakes failed on the motorway!",
        "I could strangle myself for trusting you with my car.",
        "Shit service, shit attitude, shit communication.",
        "I will destroy your rating on Google, mark my words.",
        "I called 15 times and nobody picked up. Call me on {phone}.",
        "I'm dying to know why the invoice says two new tyres.",
        "I know where your head office is and I'm taking this to them.",
        "I'll sue you for every krone if this is not fixed.",
        "Your paperwork is a circus from start to finish. Refund the fee.",
        "Damn this car, damn this warranty and damn this whole process.",
        "If this isn't sorted by Friday I'm cancelling the service plan.",
        "The manager {name} hung up on me. I want a different contact.",
        "Send the bill to my home address, {street}, not to work.",
        "The engine is dead, the battery is dead and my patience is dead.",
    ],
}

MIXED = ["Seriously, wtf.", "Sorry for my English.", "Unbelievable.", "Fuck this."]

# Added to the dev split only, after the first measurement on the test split (see
# README.md): more phrasings of the kinds of threat found weakest there, written
# without reading the test texts.
DEV_ONLY = {
    "implied_threat": [
        "You have no idea what I'm capable of, {name}.",
        "Sleep well tonight, {name}. While you still can.",
        "I'd lock my doors at night if I were {staff}.",
        "Someone should teach {name} a lesson he won't forget.",
        "I know when {name} finishes his shift and where he parks.",
        "People who treat customers like this tend to get hurt.",
    ],
    "family_threat": [
        "Give my regards to {name}'s wife. I know where she works.",
        "I've seen {name}'s kids at the playground. Cute.",
    ],
    "direct_threat": [
        "I swear I'm going to put {name} in the ground.",
        "I will find {staff} and I will hurt him.",
    ],
}

# Added to the dev split only for the classifier of issue 16 (see README.md): more
# implied, conditional, direct and family threats, and hard legitimate complaints,
# written from DESIGN.md §5 without reading the test texts or their misses.
DEV_MORE = {
    "implied_threat": [
        "Would be a real pity if {name} had an accident driving home tonight.",
        "I've got friends who don't bother with complaint forms. Tell {name} that.",
        "{name} should think very carefully before walking to his car alone.",
        "Things have a way of catching up with people like {staff}.",
        "I'll be waiting outside when {name} locks up. We'll have a little talk.",
        "Nobody would miss {staff} if he disappeared, just saying.",
        "Keep looking over your shoulder, {name}.",
        "I know what car {name} drives. Nice paint job, for now.",
        "I can't promise I'll stay calm when I see {name} again.",
        "This is your last warning, {name}.",
        "I've got nothing left to lose. Remember that, {name}.",
        "Don't make me come down there. {name} won't know what hit him.",
        "Tell {staff} to enjoy his weekend. It might be his last.",
        "You'll see what happens, {name}. You'll see.",
    ],
    "conditional_threat": [
        "Either I get my money back by Monday or {name} ends up in hospital.",
        "One more excuse and I'm coming over there to sort {staff} out with my fists.",
        "If nobody calls me today, someone at that garage is going to get hurt.",
        "Refuse my claim again and {name} won't be walking for a while.",
        "Don't fix it and I'll make sure {staff} regrets the day he was born.",
    ],
    "direct_threat": [
        "I'm going to smash {name}'s face into the counter.",
        "I will burn that workshop to the ground with {staff} inside.",
        "Tomorrow I'm coming in and I'm going to knock {name} out.",
        "I'm going to cut {staff} when I see him.",
    ],
    "family_threat": [
        "{name}'s daughter walks home from school alone, doesn't she?",
        "I wonder if {name}'s wife knows how dangerous the roads are.",
        "Nice house on {street}, {name}. Shame if it burned with your family in it.",
        "I'll pay a visit to {name}'s family, they can explain the invoice.",
        "Tell {staff} his kids won't be safe until I get my refund.",
        "I saw {name}'s wife at the supermarket yesterday. Tell her I said hi.",
        "Does {name} still live at {street}? Asking for a friend.",
        "How old are {name}'s kids now? Time flies, and accidents happen.",
        "Kids shouldn't have to pay for their father's mistakes, {name}.",
    ],
    "legitimate": [
        "I'm so angry I could scream. The same fault for the fourth time, and another bill.",
        "If this isn't sorted by Friday I'll complain to the consumer ombudsman and post the "
        "whole story online.",
        "Your service advisor {name} was rude and I want to complain about him to his manager.",
        "I know where your head office is and I will be writing to them, and to the newspaper.",
        "This garage is going to hear from my lawyer. I'm done being polite.",
        "Honestly, I'd rather push the car home than pay that price. Absolute robbery.",
        "I'll be calling every morning until someone gives me a date for the repair.",
        "I'm taking my car and my money somewhere else, and I'll tell everyone why.",
        "This is my last warning: fix it by Friday or I go to the consumer agency.",
        "I've got nothing left to lose, so yes, I will take you to court over this.",
        "{name} clearly doesn't know what he's doing. I want another mechanic on my car.",
        "Ask {staff} why he charged me for parts he never fitted.",
        "I want {name} taken off my case, he has been useless from day one.",
        "With all respect to {staff}, this is the worst work I've seen in thirty years of driving.",
    ],
}
