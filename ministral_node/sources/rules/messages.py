"""What the rule parser says back (clarify questions, reject reasons, answers), per language."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    'empty': {
        'en': "Please give a command, for example 'take off to 10 m' or 'land'.",
        'fr': "Donnez une commande, par exemple « décolle à 10 m » ou « atterris ».",
        'de': "Bitte gib einen Befehl, zum Beispiel „starte auf 10 m“ oder „lande“.",
        'es': "Dame una orden, por ejemplo «despega a 10 m» o «aterriza».",
        'it': "Dammi un comando, per esempio «decolla a 10 m» o «atterra».",
    },
    'too_long': {
        'en': 'That command is too long. Please give one short command.',
        'fr': 'Cette commande est trop longue. Donnez une seule commande courte.',
        'de': 'Dieser Befehl ist zu lang. Bitte gib einen kurzen Befehl.',
        'es': 'Esa orden es demasiado larga. Dame una sola orden corta.',
        'it': 'Questo comando è troppo lungo. Dammi un solo comando breve.',
    },
    'unknown': {
        'en': "I did not understand '{text}'. Please give one command, for example "
              "'take off to 10 m', 'fly north 50 m' or 'land'.",
        'fr': "Je n'ai pas compris « {text} ». Donnez une commande, par exemple "
              "« décolle à 10 m », « vole vers le nord 50 m » ou « atterris ».",
        'de': "Ich habe „{text}“ nicht verstanden. Bitte gib einen Befehl, zum Beispiel "
              "„starte auf 10 m“, „flieg 50 m nach Norden“ oder „lande“.",
        'es': "No entendí «{text}». Dame una orden, por ejemplo «despega a 10 m», "
              "«vuela al norte 50 m» o «aterriza».",
        'it': "Non ho capito «{text}». Dammi un comando, per esempio «decolla a 10 m», "
              "«vola a nord 50 m» o «atterra».",
    },
    'unknown_words': {
        'en': "I did not understand '{text}' in that command. Please rephrase it.",
        'fr': "Je n'ai pas compris « {text} » dans cette commande. Reformulez-la.",
        'de': "Ich habe „{text}“ in diesem Befehl nicht verstanden. Bitte formuliere ihn neu.",
        'es': "No entendí «{text}» en esa orden. Por favor, reformúlala.",
        'it': "Non ho capito «{text}» in questo comando. Per favore, riformulalo.",
    },
    'unused': {
        'en': "I do not know what '{text}' means in that command. Please rephrase it.",
        'fr': "Je ne sais pas à quoi sert « {text} » dans cette commande. Reformulez-la.",
        'de': "Ich weiß nicht, was „{text}“ in diesem Befehl bedeutet. Bitte formuliere ihn "
              "neu.",
        'es': "No sé qué significa «{text}» en esa orden. Por favor, reformúlala.",
        'it': "Non so cosa significhi «{text}» in questo comando. Per favore, riformulalo.",
    },
    'negation': {
        'en': 'I do not act on negative commands. Please tell me what to do instead.',
        'fr': "Je n'exécute pas les commandes négatives. Dites-moi plutôt quoi faire.",
        'de': 'Verneinte Befehle führe ich nicht aus. Sag mir bitte, was ich tun soll.',
        'es': 'No ejecuto órdenes negativas. Dime qué debo hacer en su lugar.',
        'it': 'Non eseguo comandi negativi. Dimmi invece cosa devo fare.',
    },
    'conditional': {
        'en': 'I cannot do conditional or timed commands. Please give the command when it '
              'should happen.',
        'fr': "Je ne gère pas les commandes conditionnelles ou différées. Donnez la commande "
              "au moment voulu.",
        'de': 'Bedingte oder zeitversetzte Befehle kann ich nicht ausführen. Gib den Befehl, '
              'wenn er gelten soll.',
        'es': 'No puedo hacer órdenes condicionales o programadas. Dame la orden cuando deba '
              'cumplirse.',
        'it': 'Non posso eseguire comandi condizionali o differiti. Dammi il comando quando '
              'serve.',
    },
    'multi': {
        'en': 'Please give one command at a time.',
        'fr': 'Donnez une seule commande à la fois.',
        'de': 'Bitte gib immer nur einen Befehl.',
        'es': 'Dame una sola orden cada vez.',
        'it': 'Dammi un solo comando alla volta.',
    },
    'too_many_steps': {
        'en': 'That mission has {count} steps; I can take at most {limit}. Please split it.',
        'fr': 'Cette mission a {count} étapes ; je peux en prendre au plus {limit}. '
              'Découpez-la.',
        'de': 'Diese Mission hat {count} Schritte; ich kann höchstens {limit} annehmen. '
              'Bitte teile sie auf.',
        'es': 'Esa misión tiene {count} pasos; puedo aceptar como máximo {limit}. '
              'Divídela, por favor.',
        'it': 'Questa missione ha {count} passi; posso accettarne al massimo {limit}. '
              'Dividila, per favore.',
    },
    'contradiction': {
        'en': 'That command contradicts itself. Which do you mean?',
        'fr': 'Cette commande se contredit. Que voulez-vous dire ?',
        'de': 'Dieser Befehl widerspricht sich. Was meinst du?',
        'es': 'Esa orden se contradice. ¿Qué quieres decir?',
        'it': 'Questo comando si contraddice. Cosa intendi?',
    },
    'question': {
        'en': "I cannot answer that. Ask 'what can you do?' or give a command.",
        'fr': "Je ne peux pas répondre à cela. Demandez « que sais-tu faire ? » ou donnez "
              "une commande.",
        'de': "Darauf kann ich nicht antworten. Frag „was kannst du?“ oder gib einen Befehl.",
        'es': "No puedo responder a eso. Pregunta «¿qué puedes hacer?» o dame una orden.",
        'it': "Non posso rispondere. Chiedi «cosa sai fare?» o dammi un comando.",
    },
    'ambiguous_target': {
        'en': 'Which target do you mean? Please name one.',
        'fr': 'Quelle cible voulez-vous dire ? Nommez-en une seule.',
        'de': 'Welches Ziel meinst du? Bitte nenne genau eins.',
        'es': '¿A qué objetivo te refieres? Nombra solo uno.',
        'it': 'Quale obiettivo intendi? Indicane uno solo.',
    },
    'missing_takeoff': {
        'en': "To what altitude should I take off? For example 'take off to 10 m'.",
        'fr': "À quelle altitude dois-je décoller ? Par exemple « décolle à 10 m ».",
        'de': "Auf welche Höhe soll ich starten? Zum Beispiel „starte auf 10 m“.",
        'es': "¿A qué altura despego? Por ejemplo «despega a 10 m».",
        'it': "A che quota devo decollare? Per esempio «decolla a 10 m».",
    },
    'missing_up': {
        'en': "How high? For example 'climb 10 m' or 'climb to 30 m'.",
        'fr': "De combien ? Par exemple « monte de 10 m » ou « monte à 30 m ».",
        'de': "Wie hoch? Zum Beispiel „steig um 10 m“ oder „steig auf 30 m“.",
        'es': "¿Cuánto? Por ejemplo «sube 10 m» o «sube a 30 m».",
        'it': "Di quanto? Per esempio «sali di 10 m» o «sali a 30 m».",
    },
    'missing_down': {
        'en': "How much lower? For example 'descend 5 m' or 'descend to 10 m'.",
        'fr': "De combien ? Par exemple « descends de 5 m » ou « descends à 10 m ».",
        'de': "Wie tief? Zum Beispiel „sinke um 5 m“ oder „sinke auf 10 m“.",
        'es': "¿Cuánto? Por ejemplo «baja 5 m» o «baja a 10 m».",
        'it': "Di quanto? Per esempio «scendi di 5 m» o «scendi a 10 m».",
    },
    'missing_altitude': {
        'en': "To what altitude? For example 'altitude 30 m'.",
        'fr': "À quelle altitude ? Par exemple « altitude 30 m ».",
        'de': "Auf welche Höhe? Zum Beispiel „Höhe 30 m“.",
        'es': "¿A qué altitud? Por ejemplo «altitud 30 m».",
        'it': "A che quota? Per esempio «quota 30 m».",
    },
    'missing_noun': {
        'en': 'Increase or decrease what: altitude or speed?',
        'fr': 'Augmenter ou diminuer quoi : l’altitude ou la vitesse ?',
        'de': 'Was soll ich ändern: Höhe oder Geschwindigkeit?',
        'es': '¿Aumentar o reducir qué: la altitud o la velocidad?',
        'it': 'Aumentare o diminuire cosa: la quota o la velocità?',
    },
    'missing_distance': {
        'en': "How far? For example 'fly forward 10 m'.",
        'fr': "Sur quelle distance ? Par exemple « avance de 10 m ».",
        'de': "Wie weit? Zum Beispiel „flieg 10 m vorwärts“.",
        'es': "¿Qué distancia? Por ejemplo «avanza 10 m».",
        'it': "Per quanto? Per esempio «vai avanti 10 m».",
    },
    'missing_direction': {
        'en': "In which direction? For example 'fly north 50 m' or 'fly forward 10 m'.",
        'fr': "Dans quelle direction ? Par exemple « vole vers le nord 50 m ».",
        'de': "In welche Richtung? Zum Beispiel „flieg 50 m nach Norden“.",
        'es': "¿En qué dirección? Por ejemplo «vuela al norte 50 m».",
        'it': "In che direzione? Per esempio «vola a nord 50 m».",
    },
    'missing_angle': {
        'en': "By how many degrees? For example 'turn left 90 degrees'.",
        'fr': "De combien de degrés ? Par exemple « tourne à gauche de 90 degrés ».",
        'de': "Um wie viel Grad? Zum Beispiel „dreh dich 90 Grad nach links“.",
        'es': "¿Cuántos grados? Por ejemplo «gira a la izquierda 90 grados».",
        'it': "Di quanti gradi? Per esempio «gira a sinistra di 90 gradi».",
    },
    'missing_speed': {
        'en': "What speed? For example 'speed 5 m/s'.",
        'fr': "Quelle vitesse ? Par exemple « vitesse 5 m/s ».",
        'de': "Welche Geschwindigkeit? Zum Beispiel „Geschwindigkeit 5 m/s“.",
        'es': "¿Qué velocidad? Por ejemplo «velocidad 5 m/s».",
        'it': "Che velocità? Per esempio «velocità 5 m/s».",
    },
    'relative_speed': {
        'en': "Please give the new speed itself, for example 'speed 5 m/s'.",
        'fr': "Donnez la nouvelle vitesse elle-même, par exemple « vitesse 5 m/s ».",
        'de': "Bitte nenne die neue Geschwindigkeit selbst, zum Beispiel „Geschwindigkeit "
              "5 m/s“.",
        'es': "Dime la nueva velocidad, por ejemplo «velocidad 5 m/s».",
        'it': "Dimmi la nuova velocità, per esempio «velocità 5 m/s».",
    },
    'missing_radius': {
        'en': "What radius? For example 'orbit the tower at 20 m'.",
        'fr': "Quel rayon ? Par exemple « tourne autour de la tour à 20 m ».",
        'de': "Welcher Radius? Zum Beispiel „umkreise den Turm mit 20 m Radius“.",
        'es': "¿Qué radio? Por ejemplo «orbita la torre a 20 m».",
        'it': "Che raggio? Per esempio «orbita la torre a 20 m».",
    },
    'missing_follow': {
        'en': "What should I follow? For example 'follow the blue car'.",
        'fr': "Que dois-je suivre ? Par exemple « suis la voiture bleue ».",
        'de': "Wem soll ich folgen? Zum Beispiel „folge dem roten Auto“.",
        'es': "¿A qué sigo? Por ejemplo «sigue al coche azul».",
        'it': "Cosa devo seguire? Per esempio «segui l'auto blu».",
    },
    'missing_search': {
        'en': "What should I search for? For example 'search for a person in a red jacket'.",
        'fr': "Que dois-je chercher ? Par exemple « cherche une personne en veste rouge ».",
        'de': "Wonach soll ich suchen? Zum Beispiel „suche eine Person mit roter Jacke“.",
        'es': "¿Qué busco? Por ejemplo «busca a una persona con chaqueta roja».",
        'it': "Cosa devo cercare? Per esempio «cerca una persona con la giacca rossa».",
    },
    'missing_count': {
        'en': "How many photos? For example 'take 3 photos'.",
        'fr': "Combien de photos ? Par exemple « prends 3 photos ».",
        'de': "Wie viele Fotos? Zum Beispiel „mach 3 Fotos“.",
        'es': "¿Cuántas fotos? Por ejemplo «toma 3 fotos».",
        'it': "Quante foto? Per esempio «scatta 3 foto».",
    },
    'not_positive': {
        'en': "'{text}' must be greater than zero.",
        'fr': "« {text} » doit être supérieur à zéro.",
        'de': "„{text}“ muss größer als null sein.",
        'es': "«{text}» debe ser mayor que cero.",
        'it': "«{text}» deve essere maggiore di zero.",
    },
    'out_of_range': {
        'en': "'{text}' is out of range ({range}).",
        'fr': "« {text} » est hors limites ({range}).",
        'de': "„{text}“ liegt außerhalb des Bereichs ({range}).",
        'es': "«{text}» está fuera de rango ({range}).",
        'it': "«{text}» è fuori intervallo ({range}).",
    },
    'capability': {
        'en': 'One command at a time: take off, land, hold or hover, return home, fly '
              'forward/back/left/right/up/down, to a compass direction or to a target, climb '
              'or descend, set speed, turn, orbit, follow, search, take photos, stop.',
        'fr': 'Une commande à la fois : décoller, atterrir, attendre, rentrer à la base, '
              'avancer/reculer/gauche/droite/monter/descendre, voler vers un cap ou une cible, '
              'régler la vitesse, tourner, orbiter, suivre, chercher, photographier, arrêter.',
        'de': 'Ein Befehl nach dem anderen: starten, landen, schweben, zurückkehren, '
              'vorwärts/rückwärts/links/rechts/hoch/runter, nach Himmelsrichtung oder zu '
              'einem Ziel fliegen, steigen, sinken, Tempo setzen, drehen, umkreisen, folgen, '
              'suchen, Fotos machen, stoppen.',
        'es': 'Una orden a la vez: despegar, aterrizar, esperar, volver a casa, '
              'adelante/atrás/izquierda/derecha/arriba/abajo, volar a un rumbo o a un '
              'objetivo, subir, bajar, fijar la velocidad, girar, orbitar, seguir, buscar, '
              'hacer fotos, parar.',
        'it': 'Un comando alla volta: decollare, atterrare, attendere, tornare a casa, '
              'avanti/indietro/sinistra/destra/su/giù, volare verso una direzione o un '
              'obiettivo, salire, scendere, impostare la velocità, girare, orbitare, '
              'seguire, cercare, scattare foto, fermarsi.',
    },
    'stunt': {
        'en': 'Aerobatic manoeuvres are not supported.',
        'fr': 'Les figures acrobatiques ne sont pas prises en charge.',
        'de': 'Kunstflugmanöver werden nicht unterstützt.',
        'es': 'Las maniobras acrobáticas no están admitidas.',
        'it': 'Le manovre acrobatiche non sono supportate.',
    },
    'scene': {
        'en': 'I cannot see: questions about the scene need the vision model, which the rule '
              'parser does not have. Ask again when the onboard or remote model is running.',
        'fr': "Je ne vois rien : les questions sur la scène demandent le modèle de vision, "
              "que l'analyseur de règles n'a pas. Redemandez quand le modèle fonctionne.",
        'de': 'Ich kann nicht sehen: Fragen zur Szene brauchen das Bildmodell, das der '
              'Regelparser nicht hat. Frag erneut, wenn das Modell läuft.',
        'es': 'No puedo ver: las preguntas sobre la escena necesitan el modelo de visión, que '
              'el analizador de reglas no tiene. Pregunta de nuevo cuando el modelo funcione.',
        'it': 'Non posso vedere: le domande sulla scena richiedono il modello visivo, che il '
              'parser a regole non ha. Chiedi di nuovo quando il modello è attivo.',
    },
}


def message(key: str, lang: str, **fields: str) -> str:
    """The text for `key` in `lang` (English if the language is unknown), filled in."""
    texts = MESSAGES[key]
    return texts.get(lang, texts['en']).format(**fields)
