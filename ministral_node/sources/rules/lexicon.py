"""Per-language vocabulary of the rule parser: phrases and the concept each one stands for.

`VOCAB` maps a concept (`kind` or `kind.value`) to phrases per language ('all' for words every
language uses), separated by `|`. Accents, case and umlaut spelling do not matter (see
`text.fold`); apostrophes and hyphens separate words as in the operator's text.

Markers: a phrase ending in `*` is a noun form (`landing`, `photo`) that gives way when the
same clause has a real verb ("search for the landing zone"); a phrase starting with `~` is
ambiguous and takes its meaning only at the start of a clause or after a cue word of its
language (`WEAK_CUES`), otherwise it means `WEAK_FALLBACK[kind]` (Spanish `para` is "stop"
only as a command, `est` is east only in "vers l'est").

Kinds: intent (an action verb), change (up/down/faster/slower...), dir, compass, rotdir,
kw (a noun naming a parameter), home, surface (the ground: "put it on the ground" lands), to
(a preposition meaning an absolute value), more, neg, cond, seq, and, q (question word), capab,
scene, stunt (an aerobatic manoeuvre), glue (articles, prepositions, polite words: allowed
anywhere, kept inside target labels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ministral_node.sources.rules.numbers import LANGUAGES
from ministral_node.sources.rules.text import phrase_keys

VOCAB: dict[str, dict[str, str]] = {
    # ---- actions ----------------------------------------------------------------------------
    'intent.takeoff': {
        'en': 'wheels up|get her up in the air|get it in the air|get in the air|go airborne'
              '|take off|takeoff|take-off|lift off|liftoff|launch|get airborne',
        'fr': "décollage immédiat|mets-toi en l'air|envole-toi|décolle|décollez|décoller"
              "|décollage*|envole-toi|envolez-vous|prends ton envol",
        'de': 'ab in die luft|geh in die luft|heb mal ab|starte|starten|start*|abheben|heb ab'
              '|hebe ab|abflug*',
        'es': 'alza el vuelo|emprende el vuelo|al aire|despega|despegue|despegar|despegad|despegá'
              '|despegues|levanta el vuelo',
        'it': 'spicca il volo|in aria|vai in aria|decolla|decollare|decollate|decolli|decollo*'
              '|alzati in volo|prendi il volo',
    },
    'intent.land': {
        'en': 'put her down|put it down|set her down|set it down|touchdown|land|landing*'
              '|touch down'
              '|set down|put down',
        'fr': 'pose|posez|poser|pose-le|posez-le|pose-la|pose le drone|atterris|atterrissez'
              '|atterrir|atterrissage*|pose-toi|posez-vous|se poser',
        'de': 'aufsetzen|setz auf|setze auf|setz ihn ab|setz sie ab|lande|landen|land|landung*'
              '|setz dich',
        'es': 'ponlo en el suelo|ponla en el suelo|ponlo en tierra|ponla en tierra'
              '|déjalo en el suelo|déjala en el suelo|toma tierra|tomar tierra|tome tierra|posa'
              '|pósalo|posarse|aterriza|aterrice|aterrizar|aterrizad|aterrices|aterrizaje*'
              '|pósate|pósese',
        'it': 'mettilo a terra|mettila a terra|portalo a terra|portala a terra|posa|posalo|posarsi'
              '|appoggiati|tocca terra|mettiti giù|atterra|atterrare|atterrate'
              '|atterri|atterraggio*|posati',
    },
    'intent.hold': {
        'all': 'hover|hovering',  # the loanword: "resta in hovering", "ponte en hover"
        'en': 'hold|hold position|hover|wait|pause|stay|stay put|loiter|keep position|stand by'
              '|standby|hold on|remain|sit tight|hang on|hang tight|hang there|stay still'
              "|don't move|do not move|keep still|do nothing|don't do anything|do not do anything"
              "|don't do a thing|stay in the air|stay airborne|stay aloft|stay up there"
              "|remain airborne|remain in the air|keep her in the air|keep it in the air",
        'fr': 'attends|attendez|attendre|reste|restez|rester|maintiens|maintenez|maintenir'
              '|stationnaire|fais du stationnaire|vol stationnaire|pause|patiente|patientez'
              '|bouge pas|ne bouge pas|bouge plus|ne bouge plus|reste là|ne bougez pas'
              '|reste en place|reste sur place|tiens ta position|garde ta position'
              '|tiens la position|garde la position|stationne|stationnez|ne fais rien|fais rien'
              '|ne faites rien|reste en vol|restez en vol|reste là-haut|restez là-haut'
              "|reste en altitude|restez en altitude|reste en haut",
        'de': 'warte|warten|schwebe|schweben|halte|halten|bleib|bleibe|bleiben|pause'
              '|pausiere|schwebeflug|position halten|beweg dich nicht|nicht bewegen'
              '|bleib in der luft|bleib mal in der luft|bleib mal kurz in der luft'
              '|rühr dich nicht|mach nichts|nichts machen|tu nichts|nichts tun',
        'es': 'no hagas nada|no haga nada|no hagáis nada|no te muevas|no se mueva|espera'
              '|espere|esperar|mantén|mantenga|mantener|quédate'
              '|quédese|quieto'
              '|permanece|permanezca|pausa|flota|quédate en el aire|quédate arriba'
              '|mantente en el aire|mantente arriba|sigue en el aire|permanece en el aire'
              '|quédate en vuelo|mantente en vuelo|sigue en vuelo',
        'it': 'aspetta|aspettare|attendi|attendere|resta|restare|rimani|rimanere|mantieni'
              '|mantenere|pausa|stai fermo|resta fermo|rimani fermo|non muoverti|non ti muovere'
              '|stai lì'
              '|stai li|stai qui|stai qua|resta in aria|rimani in aria|stai in aria'
              '|tieni la posizione|tieni posizione|tieni la quota|non fare niente|non fare nulla'
              '|non fate niente|tieni|resta in volo|rimani in volo|stai in volo|resta lassù'
              '|rimani lassù|stai lassù|resta su|rimani su',
    },
    'intent.rth': {
        'all': 'rtl|rth|rtb',
        'en': 'bring her home|bring it home|bring him home|bring us home|bring her back'
              '|bring it on home|bring her on home'
              '|bring it back|bring him back|bring us back|head back home|come on home'
              '|come on back|get back home|head back to base|go back to base|fly back home|return'
              '|return home|return to home|return to launch|return to base|come back'
              '|come home|go home|fly home|head home|go back home|back home|come here'
              '|come over here|come to me|get back here|get back over here',
        'fr': 'ramène-toi|ramène-le|ramène-la|ramenez-le|ramène le drone|retour maison|retour base'
              '|retour au bercail|rentre au bercail|rentre|rentrez|rentrer|retourne|retournez'
              '|retourner|reviens|revenez|revenir'
              '|retour',
        'de': 'ab nach hause|heimfliegen|heimkommen|komm heim|komm nach hause|flieg heim'
              '|flieg nach hause|kehre zurück|kehr zurück|komm zurück|komme zurück|zurückkehren'
              '|zurückkommen'
              '|kehre heim|rückkehr|zurück nach hause|zurück zum start|heimkehren'
              '|zurück zur basis|komm her|komm hierher|komm mal her|komm wieder her|komm zu mir',
        'es': 'tráelo de vuelta|tráelo a casa|vuelta a casa|de vuelta a casa|regresa a casa'
              '|vente a casa|vuelve|vuelva|vuelvas|volver|regresa|regrese|regreses'
              '|regresar|retorna|retorne|retornes'
              '|retornar'
              '|vuelve atrás|ven|vente|ven aquí|ven acá|vente para acá|ven para acá|tráelo'
              '|tráela|tráelo aquí|tráela aquí|tráelo para acá|tráela para acá',
        'it': 'riportalo a casa|riportalo indietro|riportalo alla base|rientro alla base'
              '|vieni a casa|torna a casa|torna|tornare|tornate|ritorna|ritornare|rientra'
              '|rientrare|rientro|ritorno'
              '|torna indietro|vieni|vieni qui|vieni qua|vieni da me|vieni qua da me|riportalo'
              '|riportala|riportalo qui|riportalo qua|riportala qui|riportala qua',
    },
    'home': {
        'en': 'home|base|home base|home point|launch point|launch site|takeoff point'
              '|take-off point|starting point|start point|to me|back to me|over to me',
        'fr': 'maison|base|point de départ|départ|bercail|point de décollage|vers moi|à moi'
              '|jusqu’à moi|par ici',
        'de': 'hause|zuhause|heim|basis|startpunkt|startplatz|startposition|ausgangspunkt'
              '|zum start|zu mir|hierher',
        'es': 'casa|base|punto de partida|punto de despegue|inicio|origen|conmigo|hacia mí'
              '|a mí',
        'it': 'casa|base|punto di partenza|punto di decollo|partenza|da me|verso di me',
    },
    'surface': {  # the ground itself: where a landing ends, never a target
        'en': 'ground|the ground|the deck|the floor', 'fr': 'sol|terre|plancher',
        'de': 'boden|erdboden', 'es': 'suelo|tierra', 'it': 'terra|suolo',
    },
    'intent.stop': {
        'all': 'stop',
        'en': 'abort|halt|cancel|freeze|emergency stop|e-stop|estop|brake|abort mission'
              '|knock it off|cease|cease all movement|all stop',
        'fr': "arrête|arrêtez|arrêter|arrête-toi|arrêtez-vous|stoppe|stopper|annule|annulez"
              "|annuler|interromps|interrompez|interrompre|arrêt|arrêt d'urgence|freine|halte",
        'de': 'stopp|stoppe|stoppen|~halt|anhalten|halt an|halte an|abbrechen|brich ab'
              '|abbruch|notstopp|nothalt|notaus|not-aus|bremse|bremsen|hör auf|höre auf'
              '|aufhören',
        'es': '~para|parar|pare|detente|deténgase|detén|detener|~alto|aborta|aborte|abortar'
              '|cancela|cancele|cancelar|frena|frene|frenar|parada de emergencia|basta',
        'it': 'ferma|fermati|fermarsi|fermare|fermatevi|alt|interrompi|interrompere|annulla'
              '|annullare|abortisci|arresto|arresto di emergenza|blocca|bloccati|frena|basta'
              '|fermo|ferma lì',
    },
    'intent.rotate': {
        'en': 'turn|rotate|yaw|spin|pivot|swivel|swing',
        'fr': 'tourne|tournez|tourner|pivote|pivotez|pivoter|tourne-toi|tournez-vous'
              '|rotation|fais une rotation|vire|virez|virer|braque|braquez',
        'de': 'dreh|drehe|drehen|dreh dich|drehe dich|wende|wenden|rotiere|rotieren'
              '|schwenke|schwenken|drehung',
        'es': 'gira|gire|gires|girar|gírate|rota|rote|rotar|voltea|voltee|voltear|vira|virar',
        'it': 'gira|girati|girare|ruota|ruotare|ruotati|rotazione|vira|virare',
    },
    'intent.face': {
        'en': 'face|point|turn to face|point the nose|nose|point your nose|nose to|look|facing'
              '|look towards|look toward',
        'fr': "oriente-toi|orientez-vous|fais face|face|regarde|regardez|regarder",
        'de': 'richte dich aus|richte dich|ausrichten|schau nach|blicke nach|schau|schaue'
              '|guck|gucke|guck nach|blick|blicke|schau richtung|guck richtung',
        'es': 'oriéntate|oriéntese|orienta|mira hacia|apunta|apunta hacia|mira al|mira para el'
              '|mira hacia el|mirando|mirando a|mirando al|mirando hacia|de cara a|de cara al',
        'it': 'orientati|orienta|punta|punta verso|guarda verso|guarda a|guarda|guardi'
              '|rivolto a|rivolto verso|rivolta a|rivolta verso|col muso verso|col muso a'
              '|con il muso verso|con il muso a',
    },
    'intent.uturn': {
        'en': 'turn around|about face|u-turn|do a u-turn|do a one-eighty|a one-eighty'
              '|turn round|spin around|spin round|swing around|swing round|whip around'
              '|whip round|flip around|turn yourself around'
              '|look behind|look behind you|look back|look backwards',
        'fr': 'demi-tour|fais demi-tour|faites demi-tour|retourne-toi|regarde derrière'
              '|regarde derrière toi|regarde en arrière',
        'de': 'umdrehen|dreh dich um|drehe dich um|kehrtwende|wende dich|schau nach hinten'
              '|guck nach hinten|schau hinter dich|guck hinter dich|blick nach hinten',
        'es': 'da la vuelta|date la vuelta|media vuelta|da media vuelta|vuélvete|mira atrás'
              '|mira hacia atrás|mira detrás|mira para atrás',
        'it': 'inversione|fai inversione|inversione a u|dietro front|dietrofront'
              '|girati indietro|mezzo giro|fai mezzo giro|voltati|guarda indietro|guarda dietro'
              '|guardati alle spalle|guarda dietro di te',
    },
    'intent.spin': {  # a full turn on the spot: 360 degrees
        'en': 'do a 360|a full 360|do a full turn|a full turn|full turn on the spot'
              '|spin all the way around|turn all the way around',
        'fr': 'fais un tour sur toi-même|un tour sur toi-même|fais un tour complet sur toi-même'
              '|un tour complet sur toi-même|fais un 360',
        'de': 'dreh dich einmal im kreis|einmal im kreis drehen|dreh dich einmal ganz herum'
              '|mach eine volle drehung|eine volle drehung',
        'es': 'date una vuelta completa|da una vuelta completa sobre ti mismo'
              '|date una vuelta sobre ti mismo|haz un 360',
        'it': 'fai un giro su te stesso|fai un giro completo su te stesso'
              '|un giro completo su te stesso|fai un 360',
    },
    'intent.orbit': {
        'en': 'orbit|circle|circle around|orbit around|fly around|go around|loiter around'
              '|fly circles around|make circles around|make laps around|do laps around'
              '|loop around|go round|fly round|circle round',
        'fr': 'fais un tour|faire un tour|faire le tour|orbite|orbitez|orbiter|tourne autour'
              '|tournez autour|tourner autour'
              '|vole autour|volez autour|fais le tour|faites le tour|fais des cercles'
              '|décris un cercle|encercle|fais un cercle|fais un petit tour|tourne en rond autour'
              '|tournoie autour|fais des ronds autour|fais des tours autour',
        'de': 'umkreise|umkreisen|kreise|kreisen|kreise um|umrunde|umrunden|herum'
              '|orbitiere|orbit|dreh kreise um|dreh runden um|dreh ein paar runden um'
              '|flieg kreise um|zieh kreise um',
        'es': 'orbita|orbite|orbitar|da vueltas|da vueltas alrededor|gira alrededor'
              '|da una vuelta alrededor|da una vuelta en torno|da vueltas en torno|gira en torno'
              '|gire alrededor|circula alrededor|rodea|rodee|rodear|vuela alrededor'
              '|date una vuelta alrededor|date una vuelta en torno'
              '|haz círculos|haz círculos alrededor|dale vueltas a|dale vueltas al|da vueltas a'
              '|da vueltas al',
        'it': 'orbita|orbitare|gira intorno|gira attorno|vola intorno|vola attorno'
              '|fai il giro|fai un giro|fai un piccolo giro|fai dei cerchi|descrivi un cerchio'
              '|circonda'
              '|ruota intorno|ruota attorno|girale intorno|giragli intorno|gira sopra',
    },
    'intent.follow': {
        'en': 'follow|track|tail|chase|shadow|keep following|keep an eye on|keep tabs on'
              '|trail|stick with|keep up with|tag along with|tag along behind'
              '|go after|run after|chase after|escort|keep eyes on|keep your eyes on|stay with'
              '|stick to|lock onto|lock on to|latch onto|latch on to|stay on that|stay on this'
              '|keep on that|keep on this|stick on that|sit on that|stay on him|stay on her'
              "|keep on him|keep on her|don't lose sight of|do not lose sight of|don't lose"
              "|do not lose",
        'fr': 'suis|suivez|suivre|poursuis|poursuivez|traque|traquez|piste|pistez|accompagne'
              '|colle|collez|colle-toi à|colle-toi au|talonne|talonnez|escorte|escortez'
              "|prends en chasse|garde un œil sur|garde un oeil sur|garde l'œil sur|surveille"
              '|file le train à|file le train au|file la|file le|file les|file l|file ce'
              '|file cette|filez la|filez le|filez les|filez l|file-le|file-la|ne lâche pas'
              '|lâche pas|ne le lâche pas|ne la lâche pas|ne les lâche pas',
        'de': 'folge|folgen|folg|verfolge|verfolgen|verfolg|begleite|begleiten|tracke|tracken'
              '|häng dich an|hänge dich an|häng dich dran|bleib dran|bleib dran an|hinterher'
              '|hinterherfliegen|eskortiere|beobachte|überwache',
        'es': 'sigue|siga|sigas|seguir|seguid|persigue|persiga|perseguir|rastrea|acompaña'
              '|acompañe|pégate a|pégate al|pegate a|pegate al|escolta|escolte|ve tras'
              '|vete tras|vigila|vigile|echa un ojo a|echa un ojo al|pisa los talones a'
              '|pisa los talones al|no pierdas de vista a|no pierdas de vista al'
              '|no le pierdas de vista|no lo pierdas de vista|no la pierdas de vista'
              '|no lo pierdas|no la pierdas|ve detrás de|ve detrás del|vete detrás de'
              '|vete detrás del',
        'it': 'segui|segua|seguire|seguite|insegui|inseguire|pedina|pedinare|traccia'
              '|accompagna|tallona|tallonare|incolla|incollati a|incollati al|stai dietro a'
              "|stai dietro al|stai dietro alla|scorta|scortare|tieni d'occhio|tieni sott'occhio"
              "|tienilo d'occhio|tienila d'occhio|sorveglia|stai attaccato a|stai attaccato al"
              "|resta attaccato a|resta attaccato al|stagli dietro|vai dietro a|vai dietro al"
              "|vai dietro alla|corri dietro a|corri dietro al|corri dietro alla"
              "|non perdere di vista|non perderlo di vista|non perderla di vista"
              "|non perdere d'occhio|non perderlo d'occhio|non perderla d'occhio",
    },
    'intent.search': {
        'en': 'search|search for|look for|find|seek|locate|scan for|hunt for|look around for'
              '|search the area for|search the area|search around for|sweep the area for'
              '|sweep for|comb the area for|scout for|scout around for|scour the area for'
              '|scour for|keep an eye out for|look out for|be on the lookout for|sweep|scour'
              '|comb|to find|to look for|in search of',
        'fr': 'cherche|cherchez|chercher|recherche|recherchez|rechercher|trouve|trouvez'
              '|trouver|localise|localisez|localiser|repère|repérez|repérer|fouille|ratisse'
              '|ratissez|passe au peigne fin|inspecte|inspectez|inspecter|scanne|scannez'
              "|balaye|balayez|balaie|à la recherche de|à la recherche du|à la recherche des"
              '|pour trouver|pour chercher',
        'de': 'suche|suchen|such|such nach|suche nach|finde|finden|find|halte ausschau nach'
              '|lokalisiere|lokalisieren|orte|aufspüren|halt ausschau nach|durchsuche'
              '|durchkämme',
        'es': 'busca|busque|buscar|buscad|encuentra|encuentre|encontrar|localiza|localice'
              '|localizar|peina la zona|rastrea la zona|batid la zona|recorre|para encontrar'
              '|para buscar|en busca de|en busca del',
        'it': 'cerca|cercare|cercate|trova|trovare|trovate|individua|individuare|localizza'
              '|localizzare|perlustra|perlustrare|setaccia|setacciare|rastrella|rastrellare'
              '|per trovare|per cercare|alla ricerca di|alla ricerca del|alla ricerca della',
    },
    'intent.photo': {  # one photo unless a count is given
        'en': 'photo*|picture*|pic*|snapshot*|shot*|image*|photograph|capture|snap',
        'fr': 'photo*|cliché*|image*|photographie*|photographier|photographiez'
              '|prends en photo|capture|capturez|capturer|immortalise|immortalisez|shoote'
              '|shootez',
        'de': 'foto*|bild*|aufnahme*|schnappschuss*|fotografiere|fotografieren|fotografier'
              '|knipse|knips',
        'es': 'foto*|fotografía*|imagen*|instantánea*|fotografiar|fotografíe|captura|capturar'
              '|retrata|retrate|retratar',
        'it': 'foto*|fotografia*|immagine*|scatto*|istantanea*|fotografa|fotografare'
              '|immortala|cattura',
    },
    'intent.photos': {  # plural without a count: ask how many
        'en': 'photos*|pictures*|pics*|snapshots*|shots*|images*',
        'fr': 'photos*|clichés*|images*|mitraille|mitrailler',
        'de': 'fotos*|bilder*|aufnahmen*|schnappschüsse*',
        'es': 'fotos*|fotografías*|imágenes*|instantáneas*',
        'it': 'fotografie*|immagini*|scatti*|istantanee*',
    },
    'intent.move': {  # generic motion: gives way to any specific action
        'en': 'scoot|nudge|shift|slide|make your way|push on|get over|go|fly|move|head|proceed'
              '|navigate|travel|cruise|steer|make for|push|hop|inch|creep|strafe|crab'
              '|approach|close in on|get closer to|move closer to|fly closer to|pop over to'
              '|nip over to|pop over|nip over|zip over to|swing by',
        'fr': 'bouge|bougez|bouger|pars|partez|fonce|foncez|glisse|décale|trace|va|vas|allez|aller'
              '|vole|volez|voler|déplace-toi|déplacez-vous|déplace'
              '|déplacer|dirige-toi|dirigez-vous|rends-toi|rendez-vous|rejoins|rejoignez'
              '|rejoindre|navigue|file|filez|décale-toi|décalez-vous|emmène-le|emmène-la|amène-le'
              '|amène-la|roule|roulez|approche-toi|approchez-vous|rapproche-toi'
              '|rapprochez-vous|approche|approchez|va voir|allez voir',
        'de': 'düse|düs|zieh|ziehe|rück|rücke|verschieb dich|verschiebe dich|geh|gehe|gehen|flieg'
              '|fliege|fliegen|beweg dich|bewege dich|bewegen|fahr'
              '|fahre|fahren|navigiere|begib dich|steuere|nähere dich|näher dich|flieg näher an'
              '|flieg näher ran an|geh näher an|flieg rüber zu|flieg rüber zum|flieg rüber zur'
              '|flieg mal rüber zu|flieg mal rüber zum|flieg mal rüber zur',
        'es': 'échate|córrete|llévalo|llévala|lleva|tira|anda|andá|desplaza|dirige|ve|vete|vaya'
              '|ir|vuela|vuele'
              '|volar|volad|muévete'
              '|muévase|mueve|mover'
              '|dirígete|diríjase|desplázate|desplácese|navega|acércate|acérquese|acercaos'
              '|aproxímate|aproxímese|arrímate|arrímese',
        'it': 'fila|corri|vai|va|andare|andate|andiamo|vola|volare|volate|muoviti|muovi'
              '|spostati|sposta'
              '|spostare|dirigiti|procedi|naviga|raggiungi|avvicinati|si avvicini|avvicinatevi'
              '|accostati|vai vicino a|vai vicino al|vai vicino alla|fai un salto a'
              '|fai un salto al|fai un salto alla',
    },
    # ---- changes of altitude or speed ---------------------------------------------------------
    'change.up': {
        'en': 'gain|pull up|lift|lift up|hop up|bump up|bump it up|pop up|take it up|take her up'
              '|bring it up'
              '|bring her up'
              '|nudge up|go on up|climb|climb up|ascend|rise|go up|go higher|fly higher'
              '|move higher|get higher'
              '|higher|gain altitude|gain height|raise|elevate',
        'fr': "monte un coup|hisse-toi|monte|montez|monter|grimpe|grimpez|grimper|élève-toi"
              "|élevez-vous|s'élever"
              "|prends de l'altitude|prenez de l'altitude|prends de la hauteur|plus haut"
              "|remonte|remontez|gagne|gagnez|lève-toi|levez-vous|reprends de l'altitude"
              "|reprends de la hauteur",
        'de': 'hochgehen|raufgehen|raufsteigen|geh rauf|flieg hoch|zieh hoch|zieh rauf|steig'
              '|steige|steigen|aufsteigen|höher'
              '|geh hoch|geh höher|hochfliegen'
              '|hochsteigen|gewinne höhe|gewinne',
        'es': 'tira para arriba|tira arriba|súbete|súbelo|súbela|sube|suba|subas|subir|subid'
              '|asciende|ascienda'
              '|ascender|elévate|elévese|eleva'
              '|elevar|gana altura|gana altitud|más alto|más arriba|gana|gane',
        'it': 'portalo su|portala su|tiralo su|tirala su|più su|tira su|tirati su|vai su|sali su'
              '|vai più su|sali|salga|salire|salite|ascendi'
              '|ascendere|alzati|alza|alzare|guadagna quota'
              '|prendi quota|più in alto|più alto|guadagna|guadagnare',
    },
    'change.down': {
        'en': 'bump down|bump it down|nudge down|go on down|descend|go down|come down|climb down'
              '|go lower|fly lower|move lower|get lower'
              '|lower|drop|drop down|sink|lose altitude|lose height|lose',
        'fr': "descends un coup|descends|descendez|descendre|redescends|redescendez|baisse|baissez"
              "|baisser"
              "|plus bas|perds de l'altitude|perdez de l'altitude|perds|perdez|abaisse-toi"
              "|abaissez-vous",
        'de': 'runtergehen|heruntergehen|runterfliegen|runterkommen|geh runter|flieg runter'
              '|runter mit dir|sinke|sink|sinken|steig ab|steige ab'
              '|absteigen|absinken|geh runter'
              '|geh tiefer|tiefer|niedriger|senke|senken|komm runter|sinkflug|verliere|verlier',
        'es': 'tira para abajo|tira abajo|bájate|baja|baje|bajes|bajar|bajad|desciende|descienda'
              '|descender|más bajo|más abajo'
              '|pierde altura|pierde altitud|pierde|pierda',
        'it': 'più giù|tira giù|vai giù|scendi giù|scendi|scenda|scendere|scendete|abbassati'
              '|abbassa'
              '|abbassare|più in basso'
              '|più basso|perdi quota|perdi|perdere',
    },
    'change.ground': {  # down with an amount; without one, all the way: land
        'en': 'take it down|take her down|take him down|bring it down|bring her down'
              '|bring him down|get it down|get her down|bring the drone down|take the drone down',
        'fr': 'descends-le|descends-la|fais-le descendre|fais-la descendre|redescends-le'
              '|redescends-la|ramène-le en bas|ramène-la en bas',
        'de': 'hol runter|hole runter|bring runter|bringe runter|setz runter|setze runter'
              '|runter mit ihr|runter mit ihm',
        'es': 'bájalo|bájala|bájalo ya|bájala ya|bájale',
        'it': 'mettilo giù|mettila giù|portalo giù|portala giù|buttalo giù|buttala giù|tiralo giù'
              '|tirala giù',
    },
    'change.place': {  # put yourself at a height, a speed; with a direction: a move
        'en': 'level off|level out|position yourself|bring the drone|put the drone'
              '|take the drone',
        'fr': 'mets-toi|mettez-vous|place-toi|placez-vous|positionne-toi|positionnez-vous'
              '|mets le drone|amène le drone|place le drone',
        'de': 'positionier dich|positioniere dich|positionieren|bring die drohne'
              '|bringe die drohne|setz die drohne',
        'es': 'ponte|póngase|colócate|colóquese|sitúate|sitúese|posiciónate|posiciónese'
              '|pon el dron|lleva el dron|coloca el dron',
        'it': 'portati|mettiti|sistemati|posizionati|piazzati|porta il drone|metti il drone'
              '|porta il dron|metti il dron|portalo|portala|mettilo|mettila',
    },
    'change.inc': {  # needs a noun: altitude or speed
        'en': 'increase|boost|bump',
        'fr': 'augmente|augmentez|augmenter',
        'de': 'erhöhe|erhöhen|erhöh|steigere|steigern',
        'es': 'aumenta|aumente|aumentar|incrementa|incremente|incrementar',
        'it': 'aumenta|aumentare|incrementa|incrementare',
    },
    'change.dec': {
        'en': 'decrease|reduce',
        'fr': 'diminue|diminuez|diminuer|réduis|réduisez|réduire',
        'de': 'verringere|verringern|reduziere|reduzieren|vermindere|vermindern',
        'es': 'disminuye|disminuya|disminuir|reduce|reduzca|reducir',
        'it': 'diminuisci|diminuire|riduci|ridurre',
    },
    'change.faster': {
        'en': 'faster|speed up|accelerate|go faster|fly faster|quicker|pick up the pace'
              '|pick it up|step on it|hurry up|throttle up|speed it up',
        'fr': 'mets les gaz|mettez les gaz|mets la gomme|accélère|accélérez|accélérer|plus vite'
              '|plus rapide|va plus vite|accélère un peu|accélère un coup',
        'de': 'schneller|beschleunige|beschleunigen|gib gas|gib mal gas|gas geben',
        'es': 'más rápido|acelera|acelere|acelerar|más deprisa|dale gas|dale caña',
        'it': 'più veloce|accelera|accelerare|più in fretta|dai gas|da gas',
    },
    'change.slower': {
        'en': 'slower|slow down|slow|decelerate|go slower|fly slower|ease off|ease up|back off'
              '|throttle back|throttle down|slow it down|slow her down|take it easy|not so fast',
        'fr': 'ralentis|ralentissez|ralentir|moins vite|plus lentement|plus lent|lève le pied'
              '|vas-y mollo|mollo|pas si vite|pas trop vite',
        'de': 'langsamer|verlangsame|verlangsamen|drossle|drosseln|gas raus|nimm gas raus'
              '|gas weg|nimm gas weg|nicht so schnell',
        'es': 'más despacio|más lento|desacelera|desacelere|desacelerar|baja el ritmo'
              '|afloja|afloja un poco|no tan rápido|no tan deprisa',
        'it': 'rallenta|rallentare|più piano|più lento|più lentamente|decelera|vai piano'
              '|vacci piano|molla un po|non così veloce|non troppo veloce',
    },
    # ---- directions ---------------------------------------------------------------------------
    'dir.forward': {
        'all': 'fwd|fwds|fwrd',  # radio abbreviations
        'en': 'forward|forwards|ahead|straight ahead|straight on|advance|onward|onwards',
        'fr': "avant|en avant|vers l'avant|tout droit|devant|avance|avancez|avancer",
        'de': 'vorwärts|vorne|nach vorne|nach vorn|vorn|vor|geradeaus',
        'es': 'pa lante|palante|pa adelante|adelante|hacia adelante|para adelante|delante'
              '|al frente|de frente|recto|todo recto|sigue recto|sigue derecho|sigue todo recto'
              '|avanza'
              '|avance|avanzar',
        'it': 'avanti|in avanti|dritto|diritto|davanti|avanza|avanzare',
    },
    'dir.back': {
        'all': 'bwd|bkwd|aft',  # radio abbreviations
        'en': 'back|backward|backwards|reverse|back up|rearward',
        'fr': "arrière|en arrière|vers l'arrière|recule|reculez|reculer",
        'de': 'zurück|rückwärts|nach hinten|hinten|wieder zurück',
        'es': 'pa atrás|patrás|atrás|hacia atrás|para atrás|retrocede|retroceda|retroceder'
              '|marcha atrás',
        'it': "indietro|all'indietro|indietreggia|indietreggiare|retrocedi",
    },
    'dir.left': {
        'en': 'left|to the left|leftward|leftwards|port',
        'fr': 'gauche|à gauche|vers la gauche|sur la gauche|bâbord|à bâbord',
        'de': 'links|nach links|backbord|nach backbord',
        'es': 'izquierda|a la izquierda|hacia la izquierda|para la izquierda|izq|izqda|izda'
              '|babor|a babor',
        'it': 'sinistra|a sinistra|verso sinistra|sx|babordo|a babordo',  # sx: written
    },
    'dir.right': {
        'en': 'right|to the right|rightward|rightwards|starboard',
        'fr': 'droite|à droite|vers la droite|sur la droite|tribord|à tribord',
        'de': 'rechts|nach rechts|steuerbord|nach steuerbord',
        'es': 'derecha|a la derecha|hacia la derecha|para la derecha|dcha|drcha|estribor'
              '|a estribor',
        'it': 'destra|a destra|verso destra|dx|tribordo|a tribordo',
    },
    'dir.up': {
        'en': 'up|upward|upwards',
        'fr': 'haut|en haut|vers le haut',
        'de': 'hoch|nach oben|oben|aufwärts|rauf|hinauf',
        'es': 'arriba|hacia arriba|para arriba|pa arriba',
        'it': "in su|in alto|verso l'alto|su di|~su",  # "su" alone: "on", but "5 metri su"
    },
    'dir.down': {
        'en': 'down|downward|downwards',
        'fr': 'bas|en bas|vers le bas',
        'de': 'runter|nach unten|unten|abwärts|hinunter|herab',
        'es': 'abajo|hacia abajo|para abajo|pa abajo',
        'it': 'giù|in giù|in basso|verso il basso',
    },
    'compass.n': {
        'en': 'north|northward|northwards', 'fr': 'nord', 'de': 'nord|norden|nördlich',
        'es': 'norte', 'it': 'nord|settentrione',
    },
    'compass.ne': {
        'en': 'northeast', 'fr': 'nordest', 'de': 'nordost|nordosten|nordöstlich',
        'es': 'noreste|nordeste', 'it': 'nordest',
    },
    'compass.e': {
        'en': 'east|eastward|eastwards', 'fr': '~est|orient', 'de': 'ost|osten|östlich',
        'es': '~este|oriente', 'it': 'est|oriente',
    },
    'compass.se': {
        'en': 'southeast', 'fr': 'sudest', 'de': 'südost|südosten|südöstlich',
        'es': 'sureste|sudeste', 'it': 'sudest',
    },
    'compass.s': {
        'en': 'south|southward|southwards', 'fr': 'sud', 'de': 'süd|süden|südlich',
        'es': 'sur', 'it': 'sud|meridione',
    },
    'compass.sw': {
        'en': 'southwest', 'fr': 'sudouest', 'de': 'südwest|südwesten|südwestlich',
        'es': 'suroeste|sudoeste', 'it': 'sudovest',
    },
    'compass.w': {
        'en': 'west|westward|westwards', 'fr': 'ouest|occident', 'de': 'west|westen|westlich',
        'es': 'oeste|occidente', 'it': 'ovest|occidente',
    },
    'compass.nw': {
        'en': 'northwest', 'fr': 'nordouest', 'de': 'nordwest|nordwesten|nordwestlich',
        'es': 'noroeste', 'it': 'nordovest',
    },
    'rotdir.cw': {
        'all': 'cw',
        'en': 'clockwise|clock-wise',
        'fr': "sens horaire|dans le sens horaire|sens des aiguilles d'une montre"
              "|dans le sens des aiguilles d'une montre|sens des aiguilles"
              "|dans le sens des aiguilles",
        'de': 'im uhrzeigersinn|uhrzeigersinn|mit dem uhrzeigersinn|rechtsherum|rechtsrum',
        'es': 'sentido horario|en sentido horario|horario'
              '|en el sentido de las agujas del reloj',
        'it': 'senso orario|in senso orario|orario',
    },
    'rotdir.ccw': {
        'all': 'ccw',
        'en': 'counterclockwise|counter-clockwise|anticlockwise|anti-clockwise',
        'fr': "sens antihoraire|sens anti-horaire|dans le sens antihoraire"
              "|dans le sens anti-horaire|sens trigonométrique"
              "|dans le sens inverse des aiguilles d'une montre|sens inverse des aiguilles"
              "|dans le sens inverse des aiguilles|sens contraire des aiguilles"
              "|dans le sens contraire des aiguilles|dans le sens contraire des aiguilles d'une"
              " montre|à l'envers des aiguilles",
        'de': 'gegen den uhrzeigersinn|gegenuhrzeigersinn|entgegen dem uhrzeigersinn|linksherum'
              '|linksrum',
        'es': 'sentido antihorario|en sentido antihorario|antihorario'
              '|en sentido contrario a las agujas del reloj|contra las agujas del reloj'
              '|al revés de las agujas del reloj|en contra de las agujas del reloj',
        'it': 'senso antiorario|in senso antiorario|antiorario|contro le lancette'
              "|in senso contrario alle lancette|al contrario delle lancette",
    },
    # ---- parameter nouns, prepositions, modifiers -------------------------------------------
    'kw.altitude': {
        'en': 'alt|altitude|height|elevation', 'fr': 'alt|altitude|hauteur',
        'de': 'alt|höhe|flughöhe', 'es': 'alt|altitud|altura|elevación',
        'it': 'altitudine|quota|altezza',
    },
    'kw.speed': {
        'all': 'spd',  # radio abbreviations
        'en': 'speed|velocity|pace|airspeed|groundspeed|top speed|cruise speed'
              '|cruising speed',
        'fr': 'vitesse|allure|vitesse maximale|vitesse maxi|vitesse de croisière',
        'de': 'geschwindigkeit|tempo|fluggeschwindigkeit|höchstgeschwindigkeit'
              '|maximalgeschwindigkeit|reisegeschwindigkeit|spitzengeschwindigkeit',
        'es': 'velocidad|rapidez|velocidad máxima|velocidad de crucero|vel',
        'it': 'velocità|andatura|velocità massima|velocità di crociera|vel',
    },
    'kw.heading': {
        'all': 'hdg',  # radio abbreviations
        'en': 'heading|bearing|course|azimuth', 'fr': 'cap|azimut',
        'de': 'kurs|steuerkurs|peilung|azimut', 'es': 'rumbo|azimut', 'it': 'rotta|prua|azimut',
    },
    'kw.radius': {
        'en': 'radius', 'fr': 'rayon', 'de': 'radius|umkreis', 'es': 'radio', 'it': 'raggio',
    },
    'kw.distance': {
        'en': 'distance|range', 'fr': 'distance|écart', 'de': 'abstand|entfernung|distanz',
        'es': 'distancia', 'it': 'distanza',
    },
    'kw.duration': {
        'en': 'duration|a moment|one moment|a mo', 'fr': 'durée|un instant|un moment'
              '|un petit moment|un petit instant', 'de': 'dauer|einen moment|einen augenblick',
        'es': 'duración|un momento|un momentito|un segundito',
        'it': 'durata|un attimo|un momento|un istante|un attimino',
    },
    'to': {
        'en': 'and maintain|maintain|to', 'fr': "à|jusqu'à|jusqu'au", 'de': 'auf|bis|bis auf'
              '|bis zu',
        'es': 'a|hasta', 'it': 'a|ad|fino a|fino ad|sino a',
    },
    'more': {
        'en': 'more|further|farther|extra|additional|another',
        'fr': 'plus|de plus|en plus|supplémentaire|supplémentaires|encore',
        'de': 'mehr|weiter|zusätzlich|zusätzliche|noch',
        'es': 'más|adicionales|extra|otros|otras',
        'it': 'in più|di più|più|ulteriori|ancora|altri|altre',
    },
    'limit': {  # "2 m/s tops": the value said is the new one, not a change by it
        'en': 'max|maximum|tops|at most|no more than|not more than|at the most|cap|cap it at'
              "|under|below|less than|no faster than|not faster than|don't exceed"
              '|do not exceed|never exceed|dont exceed',
        'fr': 'max|maxi|maximum|au maximum|au max|pas plus de|au plus|en dessous de|sous les'
              '|moins de|pas plus vite que|ne dépasse pas|ne dépassez pas|ne dépasse pas les'
              '|ne dépassez pas les',
        'de': 'max|maximal|maximum|höchstens|nicht mehr als|nicht schneller als'
              '|nicht überschreiten|überschreite nicht',
        'es': 'máximo|como máximo|max|a lo sumo|no más de|como mucho|por debajo de|menos de'
              '|no más rápido de|no más rápido que|no superes|no supere|no superes los'
              '|no pases de',
        'it': 'massimo|al massimo|max|non più di|al più|sotto i|sotto|meno di'
              '|non più veloce di|non superare|non superare i|non andare oltre'
              '|non andare oltre i|non oltrepassare',
    },
    # ---- things the parser refuses to guess -------------------------------------------------
    'neg': {
        'en': "don't|do not|dont|doesn't|never|not|no|can't|cannot|won't|mustn't",
        'fr': 'ne|n|pas|jamais|non', 'de': 'nicht|kein|keine|keinen|nie|niemals|nein',
        'es': 'no|nunca|jamás|ni', 'it': 'non|mai|no|né',
    },
    'cond': {
        'en': 'except|except if|only if|but only|if|when|whenever|unless|once|as soon as|until'
              '|in case|every|each',
        'fr': "sauf|à moins que|seulement si|si|quand|lorsque|lorsqu|dès que|sauf si"
              "|jusqu'à ce que|au cas où|une fois que"
              "|chaque",
        'de': 'außer|nur wenn|es sei denn|wenn|falls|sobald|sofern|solange|außer wenn|jede|jeden'
              '|jedes',
        'es': 'excepto|salvo|solo si|sólo si|si|cuando|en cuanto|a menos que|hasta que|una vez que'
              '|en caso de que|cada',
        'it': 'tranne|eccetto|salvo|solo se|se|quando|appena|non appena|a meno che|finché|nel caso'
              '|ogni',
    },
    'seq': {
        'en': 'then|and then|after that|afterwards|after|before|followed by|later|finally'
              '|~first|first of all|firstly|~next|and finally|lastly',
        'fr': "puis|ensuite|après|et puis|et ensuite|d'abord|après ça|enfin|pour finir"
              "|finalement|tout d'abord",
        'de': 'dann|danach|anschließend|und dann|vorher|bevor|nachher|zuerst|zunächst|erst'
              '|als nächstes|zum schluss|schließlich|und zum schluss',
        'es': 'luego|después|y luego|y después|entonces|antes|primero|más tarde'
              '|a continuación|por último|finalmente|al final|y por último',
        'it': 'poi|dopo|quindi|e poi|prima|infine|dopodiché|successivamente|alla fine'
              '|per finire|per ultimo|e infine',
    },
    'and': {
        'all': '&', 'en': 'and|plus', 'fr': 'et', 'de': 'und|sowie', 'es': 'y|e',
        'it': 'e|ed',
    },
    'corr': {  # a correction follows: "east, I mean west", "sorry, ..."
        'en': 'i mean|sorry|correction|scratch that|my bad|no wait|make that|i meant|belay that'
              '|or rather',
        'fr': 'je veux dire|pardon|correction|non attends|je voulais dire|euh non|ou plutôt',
        'de': 'ich meine|ich mein|korrektur|quatsch|besser gesagt|vielmehr|nein warte'
              '|entschuldigung|ich meinte',
        'es': 'quiero decir|perdón|digo|mejor dicho|corrección|o sea|no espera|quise decir',
        'it': 'cioè|anzi|scusa|volevo dire|intendo|correzione|no aspetta|o meglio',
    },
    'but': {  # "don't land but hover", "nicht landen, sondern warten"
        'en': 'but|instead|rather|but rather|but instead|instead of that',
        'fr': 'mais|plutôt|mais plutôt|au lieu de ça',
        'de': 'sondern|aber|lieber|stattdessen|sondern lieber',
        'es': 'sino|pero|mejor|en cambio|sino que',
        'it': 'ma|invece|piuttosto|bensì|ma invece',
    },
    # ---- questions ----------------------------------------------------------------------------
    'q': {
        'en': "what|what's|whats|where|how|why|which|who",
        'fr': 'que|quoi|qu|quel|quelle|quels|quelles|où|comment|pourquoi',
        'de': 'was|wo|wie|warum|wieso|weshalb|welche|welcher|welches|wer',
        'es': 'qué|que|dónde|cómo|por qué|cuál|cuáles|quién',
        'it': 'cosa|che|che cosa|dove|come|perché|quale|quali|chi',
    },
    'capab': {
        'en': 'what can you do|what do you do|what are you able to do|what are your commands'
              '|what are your capabilities|what commands|which commands|list commands|commands'
              '|help|help me|capabilities|what can i say|what can i ask',
        'fr': "que sais-tu faire|que peux-tu faire|qu'est-ce que tu sais faire"
              "|qu'est-ce que tu peux faire|tu sais faire quoi|tu peux faire quoi"
              "|quelles commandes|quelles sont tes commandes|commandes|aide|aide-moi",
        'de': 'was kannst du|was kannst du tun|was kannst du machen|was kannst du alles'
              '|welche befehle|befehle|hilfe|was verstehst du',
        'es': 'qué puedes hacer|qué sabes hacer|qué comandos|cuáles son tus comandos'
              '|comandos|ayuda|ayúdame',
        'it': 'cosa sai fare|cosa puoi fare|che cosa sai fare|che cosa puoi fare'
              '|che sai fare|che puoi fare|quali comandi|comandi|aiuto|aiutami',
    },
    'stunt': {
        'all': 'looping|loopings',
        'en': 'barrel roll|barrel rolls|a flip|flips|backflip|front flip|loop the loop'
              '|loop-the-loop|somersault|aerobatics|stunt|stunts',
        'fr': 'tonneau|tonneaux|salto|saltos|vrille|acrobatie|acrobaties|figure acrobatique',
        'de': 'rolle|fassrolle|salto|überschlag|kunstflug|kunststück|kunststücke',
        'es': 'tonel|voltereta|volteretas|rizo|acrobacia|acrobacias|pirueta|piruetas',
        'it': 'tonneau|capriola|capriole|acrobazia|acrobazie|giravolta|piroetta',
    },
    'scene': {
        'en': 'see|sees|seeing|visible|describe|look like|in view|is there|are there'
              '|how many|camera',
        'fr': "vois|voit|voir|vu|visible|décris|décrivez|décrire|caméra|y a-t-il|il y a"
              "|combien",
        'de': 'siehst|sieht|sehen|seht|sichtbar|beschreibe|beschreib|beschreiben|kamera'
              '|gibt es|wie viele|erkennst',
        'es': 'ves|veo|ver|visible|describe|describa|describir|cámara|hay|cuántos|cuántas',
        'it': "vedi|vede|vedere|visibile|descrivi|descriva|descrivere|telecamera|c'è"
              '|ci sono|quanti|quante',
    },
    # ---- discourse particles and fillers: skipped wherever they stand -------------------------
    # (never negations: those are their own kind and always ask back)
    'filler': {
        'all': 'uh|uhm|erm|hmm|ähm|äh|euh|ehm|oh|ah',
        'en': "um|so|well|due|thanks|thank you|cheers|over and out|ok so|okay so|right then"
              "|alright then|okay then|now then|yeah|yes"
              "|yep"
              "|roger|roger that|copy|copy that|wilco|mate|buddy|guys|folks|sir|come on|like"
              "|go ahead and|let's go|nice and easy|real quick|you know|y'know|basically"
              "|affirmative|expedite|in place|on the spot"
              "|literally|actually|honestly|kinda|sort of|anyway|anyways|i guess|time to"
              "|we're done|we are done|that's it|that's all"
              "|that will do|that'll do|that will do it|that'll do it|that's good|that's great"
              "|that's perfect|that's fine|good job|nice job|nice one|well done|nicely done"
              "|good work|nice work|good stuff|that's enough|that is enough|good enough|all done",
        'fr': "alors|bien|donc|ben|bah|hein|voilà|voila|hop|allez hop|écoute|écoutez|dis|dis donc"
              "|bref|oui|ouais|on|on va|nous allons|allons|vas-y|allez-y|aller hop|c'est parti"
              "|en fait|du coup|franchement|bon ben|bon bah|reçu|bien reçu|compris|bien compris"
              "|entendu|chef|ok chef|roger|c'est bon|on a fini|c'est fini|il est temps de"
              "|ça ira|ça va aller|c'est bien|c'est parfait|c'est très bien|très bien|bien joué"
              "|nickel|impeccable|impec|ça suffit|ça suffira|c'est tout",
        'de': 'los geht’s|los gehts|ja|jo|gut|ja gut|na|na gut|na los|nun|so|los|ab|eben|einfach'
              '|schon'
              '|ruhig|mach mal|komm schon|auf geht’s|auf gehts|also gut|weißt du|naja|tja'
              '|quasi|sozusagen|eigentlich|irgendwie|genau|alles klar|klar|roger|chef'
              '|wir sind fertig|das wars|das war’s|gut gemacht|sehr gut|passt|passt so'
              '|das passt|das passt so|klasse|das reicht|es reicht|das genügt|das reicht jetzt',
        'es': 'pues nada|pues|bueno|vamos|dale|mira|a ver|eh|bien|sí claro|órale|ándale|hombre'
              '|oiga'
              '|venga ya|anda ya|vamos a ver|en plan|digamos|en fin|bueno pues|recibido'
              '|entendido|copiado|roger|jefe|y ya está|y ya|y punto|hemos terminado'
              '|ya hemos terminado|es hora de|ya está bien|está bien|así está bien|muy bien'
              '|buen trabajo|bien hecho|ya está|ya vale|ya es suficiente|es suficiente',
        'it': 'allora|ecco|bene|beh|be|forza|senti|dunque|insomma|coraggio|su dai'
              '|vai pure|vabbè|vabbe|va be|praticamente|diciamo|comunque|boh|ricevuto|capito'
              '|copiato|roger|capo|e basta|e basta così|su su|dai dai|abbiamo finito'
              '|è ora di|va bene così|così va bene|ottimo|ottimo lavoro|ben fatto|benissimo'
              '|bravo|può bastare|ok così',
    },
    # ---- words that carry no meaning of their own ---------------------------------------------
    'glue': {
        'all': '~drone|ok|okay',
        'en': "right there|right here|briefly|initiate|commence|begin|execute|perform|start|grab"
              "|shoot|snap off|fire off|get me|give me|grab me|snap me|agl|change|adjust|the|a|an"
              "|nice|good|decent|clear|crank|dial|bring|knock"
              "|of|on|onto"
              "|at|for|with|in|into|inside|within|toward|towards|over"
              "|above|around|about|approximately|approx|roughly|by|from|via|per|please|pls"
              "|plz|kindly|now|right now|right away|immediately|immediate|asap|at once|quickly"
              "|quick"
              "|slowly|gently|carefully|smoothly|safely|softly|just|you|your|yourself|hey|hi"
              "|alright|all right|go ahead|can you|could you|would you|will you"
              "|i want you to|i need you to|i'd like you to|let's|lets|let us|here|there"
              "|position|current|current position|this|that|these|those|it|its|him|her"
              "|them|set|put|make|take|do|get|keep|keeping|is|are|be|high|away|behind|i|we|level"
              "|mode"
              "|direction|in the direction of|during|do you know how to|are you able to"
              "|are you capable of|can you even|a bit|a little|a little bit|a tad|a touch|try to"
              "|try and",
        'fr': "fais-moi|faites-moi|donne-moi|en l'air|commence|commencer|lance|lancer|entame"
              "|entamer|exécute|exécuter|effectuer|mettre"
              "|régler|fixer|passer|prendre|faire|effectuer|réaliser|changer|ajuster|le|la"
              "|les|l|un|une|des|du|de|d|au|aux|en|sur|vers|dans|avec|pour|par"
              "|depuis|environ|à peu près|s'il te plaît|s'il vous plaît|stp|svp|merci"
              "|maintenant|tout de suite|immédiatement|immédiat|immédiate|d'urgence|de suite"
              "|vite|rapidement|doucement"
              "|lentement|prudemment|tranquillement|tu|te|t|toi|vous|ton|ta|tes|votre|vos"
              "|le drone|hé|hey|d'accord|bon|peux-tu|pouvez-vous|tu peux|vous pouvez"
              "|veux-tu|voulez-vous|je veux que tu|est-ce que|position|ta position|ici|là"
              "|ce|cet|cette|ces|ça|cela|lui|y|mets|mettez|règle|réglez|fixe|fixez|passe"
              "|passez|prends|prenez|fais|faites|fait|effectue|derrière|autour|alentour|se|s|il"
              "|plein"
              "|elle|direction|en direction de|en direction du|pendant|durant|tu sais|sais-tu"
              "|savez-vous|vous savez|est-ce que tu sais|tu es capable de|es-tu capable de"
              "|est-ce que tu peux|est-ce que vous pouvez|un peu|un petit peu|prends-moi"
              "|petit|petite|petits|petites|belle|beau|bonne|jolie|nous|sur toi-même"
              "|au-dessus de|au-dessus du|au-dessus des|au-dessus|par-dessus"
              "|sur moi-même|essaie de|essaye de|essayez de|essaie d|essaye d|sur place",
        'de': 'stehen|kurz|mal kurz|einleiten|leite|durchführen|führe|ausführen|beginnen|beginne'
              '|setzen'
              '|stellen|einstellen|festlegen|ändern|ändere|nehmen|schieß|schieße|agl|der|die'
              '|das|den|dem|des|ein|eine|einen|einem|einer|eines|zu|zum|zur|nach|in'
              '|im|ins|an|am|mit|für|um|von|vom|über|bei|beim|ca|circa|etwa|ungefähr|bitte'
              '|danke|jetzt|sofort|sofortige|sofortigen|gleich|schnell|zügig|langsam'
              '|vorsichtig|sanft|behutsam'
              '|du|dich|dir|dein|deine|deinen|die drohne|hey|hallo|also|mal|doch|kannst du'
              '|könntest du|würdest du|ich möchte dass du|position|deine position|hier'
              '|dort|da|es|ihn|sie|ihm|diese|dieser|dieses|diesen|mach|mache|machen|stelle'
              '|stell|setze|setz|nimm|hinter|aus|lang|entfernt|weg|~drohne|richtung'
              '|in richtung|während|weißt du wie|bist du in der lage|bist du fähig'
              '|kannst du auch|kannst du überhaupt|können sie|ein bisschen|ein wenig|etwas'
              '|nur|nur noch|ein stück|ein stückchen|n|nen|nem|ner|n stück|wir|auf der stelle'
              '|schönes|schöne|schönen|gutes|gute|guten|drüben|da drüben|dort drüben',
        'es': 'inicia|iniciar|comienza|comenzar|empieza|empezar|ejecuta|ejecutar|realiza|realizar'
              '|poner|fijar|ajustar|establecer|configurar|tomar|sacar|hacer|cambiar|cambia|el|la'
              '|los|las|lo|un|una|unos|unas|al|del|de|en|hacia|sobre|con|por|desde'
              '|durante|entre|aproximadamente|más o menos|por favor|porfa|porfavor|gracias'
              '|ahora|ya|ahora mismo|inmediatamente|inmediato|inmediata|de inmediato'
              '|enseguida|rápido|rápidamente|despacio'
              '|lentamente|con cuidado|suavemente|tú|te|usted|tu|tus|su|~dron|el dron|oye'
              '|hola|vale|venga|puedes|podrías|puede|podría|quiero que|posición'
              '|tu posición|aquí|allí|ahí|allá|esta|estos|estas|ese|esa|eso|esto|le|les'
              '|pon|fija|ajusta|establece|configura|toma|tome|saca|saque|haz|haga'
              '|detrás|alrededor|se|dirección|en dirección|en dirección a|acá|sabes|sabe|sácale'
              '|hazle|tómale'
              '|sabes cómo|eres capaz de|es capaz de|puedes también|un poco|un poquito'
              '|echa|eche|pequeña|pequeño|buena|buen|bonita|linda|sobre ti mismo'
              '|sobre sí mismo|en el sitio|intenta|intente|trata de|procura',
        'it': "un po'|un pò|un poco|inizia|iniziare|avvia|avviare|comincia|cominciare|esegui"
              "|eseguire|effettua"
              "|effettuare|impostare|mettere|fissare|regolare|scattare|prendere|cambiare|cambia"
              "|portare|il|lo"
              "|la|i|gli|le|l|un|uno|una|del|della|dello|dei|degli|delle|al|alla"
              "|allo|ai|agli|alle|all|sul|sulla|sullo|sui|sugli|sulle|nel|nella|nello|nei"
              "|negli|nelle|dal|dalla|dallo|dai|dagli|dalle|di|da|in|con|per|verso|tra"
              "|fra|circa|più o meno|per favore|per piacere|perfavore|grazie|ora|adesso"
              "|subito|immediatamente|immediato|immediata|velocemente|veloce|rapidamente|piano"
              "|lentamente"
              "|delicatamente|con attenzione|tu|ti|te|tuo|tua|il drone|ehi|ciao|va bene"
              "|puoi|potresti|vorrei che|voglio che|posizione|la tua posizione|qui|qua|lì"
              "|là|questo|questa|questi|queste|quello|quella|quelli|quelle|imposta|metti"
              "|fissa|regola|scatta|fai|fa|fare|prendi|dietro|intorno|attorno|si|direzione"
              "|in direzione|entro|presto|sai|sapresti|sei capace di|sei in grado di"
              "|riesci a|riesci ad|può|fagli|falle|piccolo|piccola|cerca di|prova a|prova ad"
              "|tenta di|vedi di|su te stesso|su se stesso|sul posto|bella|bel|bello|carina"
              "|buona",
    },
}

# Words that open a clause as an interjection when a comma follows ("right, fly north 50 m",
# "allez, monte à 30 m"); elsewhere they keep their meaning (a direction, a verb).
DISCOURSE = {
    'en': 'right|now|go|look|listen|good|great|fine|nice|perfect|cool|then',
    'fr': 'allez|bon|bien|parfait|super|tiens|voyons|maintenant|genre|regarde',
    'de': 'los|komm|gut|prima|super|also|jetzt|schau|guck',
    'es': 'venga|vale|anda|vamos|bueno|perfecto|vaya|ahora|tipo',
    'it': 'vai|dai|forza|avanti|bene|perfetto|su|ora|adesso|tipo|guarda',
}
# German modal particles, said right after the verb ("flieg halt heim", "lande mal"): glue,
# fillers or (halt) a weak stop, so the parser reads past them; the training generators put them
# there (training/casual.py).
MODAL_PARTICLES = {'de': 'mal|halt|doch|eben|einfach|ruhig|schon'}
# Questions about what the node can do ("can you follow cars?"): `know` phrases ask it whatever
# follows; `can` phrases only about a kind of thing ("cars", "des vélos"), not a thing in view
# ("can you follow the red car?" is a polite command). Both are glue in `VOCAB`.
ABILITY = {
    'en': {'know': 'do you know how to|are you able to|are you capable of|can you even',
           'can': 'can you'},
    'fr': {'know': 'tu sais|sais-tu|savez-vous|vous savez|est-ce que tu sais|tu es capable de'
                   '|es-tu capable de',
           'can': 'tu peux|peux-tu|pouvez-vous|vous pouvez|est-ce que tu peux'
                  '|est-ce que vous pouvez'},
    'de': {'know': 'weißt du wie|bist du in der lage|bist du fähig|kannst du auch'
                   '|kannst du überhaupt',
           'can': 'kannst du|können sie'},
    'es': {'know': 'sabes|sabe|sabes cómo|eres capaz de|es capaz de|puedes también',
           'can': 'puedes|puede'},
    'it': {'know': 'sai|sapresti|sei capace di|sei in grado di',
           'can': 'puoi|può|riesci a|riesci ad'},
}
# Words before a noun that make it a thing in view ("the car"), not a kind of thing ("cars").
DEFINITE = {
    'en': 'the|this|that|these|those|my|our|your',
    'fr': "le|la|les|l|ce|cet|cette|ces|mon|ma|mes|ton|ta|tes|au|aux|du",
    'de': 'der|die|das|den|dem|des|diese|dieser|diesen|dieses|mein|meine|meinen|dein|deine'
          '|zum|zur|vom|im|am',
    'es': 'el|la|los|las|al|del|este|esta|estos|estas|ese|esa|esos|esas|mi|mis|tu|tus',
    'it': 'il|lo|la|i|gli|l|al|alla|allo|ai|agli|alle|del|della|dello|quel|quella|quello'
          '|questo|questa|mio|mia',
}
# Words that describe a target again after a comma ("the car, the red one", "la macchina,
# quella vicino al ponte"): the description is the same target.
APPOSITIVES = {
    'en': 'one|ones', 'fr': 'celui|celle|ceux|celles', 'de': 'derjenige|diejenige|dasjenige',
    'es': 'el de|la de|los de|las de|el que|la que|los que|las que|aquel|aquella',
    'it': 'quello|quella|quelli|quelle|quel',
}
# Object pronouns on a verb ("suis-moi ce camion", "repère-moi le camion"): no part of the
# target's name when one follows.
OBJECT_PRONOUNS = {'en': frozenset({'me'}), 'fr': frozenset({'moi'}),
                   'de': frozenset({'mir'}), 'es': frozenset({'me'}),
                   'it': frozenset({'mi'})}
# A search's purpose ("to find the dog", "à la recherche du chien"): the target follows it,
# what comes before is the area searched.
PURPOSES = {
    'en': 'to find|to look for|in search of',
    'fr': 'à la recherche de|à la recherche du|à la recherche des|pour trouver|pour chercher',
    'de': '',
    'es': 'para encontrar|para buscar|en busca de|en busca del',
    'it': 'per trovare|per cercare|alla ricerca di|alla ricerca del|alla ricerca della',
}
# Nouns of the vehicle itself, which a call sign may use ("Drone 2, land").
VEHICLE_WORDS = frozenset({'drone', 'drohne', 'dron', 'uav', 'quad', 'copter', 'bird'})
# The station speaking, before a comma ("this is base, ...", "ici la base, ..."): framing.
STATIONS = {
    'en': 'this is|here is', 'fr': 'ici|ici la|ici le|c\'est', 'de': 'hier ist|hier spricht|hier',
    'es': 'aquí|habla|aquí habla', 'it': 'qui|qui è|parla|qui parla',
}
# A turn verb said alone to the vehicle itself turns it around: "girati!", "gírate",
# "tourne-toi", "dreh dich" (with an angle or a side it is a turn by that).
REFLEXIVE_TURNS = {'en': '', 'fr': 'tourne-toi|tournez-vous',
                   'de': 'dreh dich|drehe dich', 'es': 'gírate|gírese|voltéate|voltéese',
                   'it': 'girati|giratevi|si giri'}
# Taking an amount of altitude is gaining it: "prends 10 mètres d'altitude".
TAKES = {'en': 'take', 'fr': 'prends|prenez|prendre', 'de': 'nimm|nehmen',
         'es': 'toma|tome|tomar|coge', 'it': 'prendi|prenda|prendere'}
# Stop verbs that also slow down to a speed: "brake to 3 m/s" sets it, "brake!" stops.
BRAKES = {'en': 'brake', 'fr': 'freine|freinez', 'de': 'bremse|bremsen',
          'es': 'frena|frene|frenar', 'it': 'frena|frenare'}
# Radio prowords that close a transmission ("..., over", "à vous", "kommen"): at the end of a
# command they are not part of it.
PROWORDS = {
    'en': 'over|out|over and out|over out',
    'fr': 'à vous|à toi|terminé|fin|parlez',
    'de': 'kommen|ende|over|ende und aus',
    'es': 'cambio|cambio y fuera|cambio y corto|corto|fuera',
    'it': 'passo|chiudo|passo e chiudo|over',
}
# Radio abbreviations of parameter nouns that mean the parameter only before a number ("alt 25";
# "alt!" alone is Italian for stop).
NUMBER_ABBREVIATIONS = frozenset({'alt', 'spd', 'hdg', 'vel'})
# Slang approximators read past right before a number ("genre 5 mètres", "tipo 5 metri"): the
# amount said is the one meant; elsewhere they are nouns ("quel tipo", "le genre").
APPROXIMATORS = {'en': frozenset(), 'fr': frozenset({'genre'}), 'de': frozenset(),
                 'es': frozenset({'tipo'}), 'it': frozenset({'tipo'})}
# Words that say the number right after them is the one meant, in place of the number said just
# before ("about thirty metres, say 35", "une vingtaine de mètres, enfin 25"); before anything
# else they keep their meaning ("enfin atterris": finally).
RESTATERS = {
    'en': "say|let's say|lets say|call it|make it|more like|i'd say",
    'fr': 'enfin|disons|mettons|on va dire|plutôt',
    'de': 'sagen wir|sagen wir mal|eher|besser gesagt',
    'es': 'digamos|pongamos|mejor dicho|o sea',
    'it': 'diciamo|facciamo|mettiamo|anzi',
}
# Kinds a misspelt word may be read as (by edit distance): actions and directions; never
# numbers, units, negations or parameter nouns ("kurz" is no "Kurs").
TYPO_KINDS = frozenset({'intent', 'change', 'dir', 'compass', 'rotdir'})
# A weak phrase keeps its meaning at the start of a clause or after one of these words.
WEAK_CUES = {
    'en': 'but', 'de': '', 'it': 'metri|metro',  # "land, but first take a photo"
    'fr': "l|vers|cap|plein|direction|au|nord|sud|à",
    'es': 'al|el|hacia|rumbo|dirección|del|norte|sur|a',
}
WEAK_FALLBACK = {'compass': 'glue', 'intent': 'glue', 'glue': 'word', 'dir': 'glue',
                 'seq': 'word'}  # "land next to the car": no sequence
# Where the object may come before the verb ("dem roten Auto folgen"); elsewhere words before
# the verb are not a target.
VERB_FINAL = frozenset({'de'})

COMPASS_DEG = {'n': 0.0, 'ne': 45.0, 'e': 90.0, 'se': 135.0, 's': 180.0, 'sw': 225.0,
               'w': 270.0, 'nw': 315.0}
# Upper-case abbreviations ("fly NE 100 m"); O is east in German, west in the Romance languages.
ABBREVIATION_LETTERS = {
    'en': {'N': 0.0, 'E': 90.0, 'S': 180.0, 'W': 270.0},
    'de': {'N': 0.0, 'O': 90.0, 'S': 180.0, 'W': 270.0},
    'fr': {'N': 0.0, 'E': 90.0, 'S': 180.0, 'O': 270.0},
    'es': {'N': 0.0, 'E': 90.0, 'S': 180.0, 'O': 270.0},
    'it': {'N': 0.0, 'E': 90.0, 'S': 180.0, 'O': 270.0},
}


def _midpoint(a: float | None, b: float | None) -> float | None:
    """The compass heading halfway between two (north-east from north and east), or None."""
    if a is None or b is None:
        return None
    x = math.sin(math.radians(a)) + math.sin(math.radians(b))
    y = math.cos(math.radians(a)) + math.cos(math.radians(b))
    if math.hypot(x, y) < 1e-9:
        return None
    return round(math.degrees(math.atan2(x, y)) % 360.0, 3)


def combine_headings(headings: list[float | None]) -> float | None:
    """Headings said in a row, folded from the right: north north-east -> 22.5."""
    result = headings[-1]
    for heading in reversed(headings[:-1]):
        result = _midpoint(heading, result)
    return result


@dataclass(frozen=True)
class Entry:
    """What a phrase means: its kind, value, and the markers described above."""

    kind: str
    value: str
    noun: bool = False
    weak: bool = False


def _compile() -> tuple[dict[str, dict[tuple[str, ...], Entry]], dict[tuple[str, ...], set]]:
    by_lang: dict[str, dict[tuple[str, ...], Entry]] = {lang: {} for lang in LANGUAGES}
    langs_of: dict[tuple[str, ...], set] = {}
    for concept, phrases in VOCAB.items():
        kind, _, value = concept.partition('.')
        for lang, spec in phrases.items():
            targets = LANGUAGES if lang == 'all' else (lang,)
            for phrase in spec.split('|'):
                entry = Entry(kind, value, phrase.endswith('*'), phrase.startswith('~'))
                for key in phrase_keys(phrase.strip('*~')):
                    if lang != 'all':
                        langs_of.setdefault(key, set()).add(lang)
                    for target in targets:
                        if by_lang[target].setdefault(key, entry) != entry:
                            raise ValueError(f'{lang} phrase {phrase!r} has two meanings')
    return by_lang, langs_of


PHRASES, PHRASE_LANGUAGES = _compile()
LONGEST_PHRASE = max(len(key) for table in PHRASES.values() for key in table)
DISCOURSE_WORDS = {lang: frozenset(k[0] for w in words.split('|') for k in phrase_keys(w))
                   for lang, words in DISCOURSE.items()}
CUES = {lang: frozenset(k[0] for w in words.split('|') if w for k in phrase_keys(w))
        for lang, words in WEAK_CUES.items()}


def phrase_set(spec: str) -> frozenset[tuple[str, ...]]:
    """The token keys of every phrase of a table entry ('a|b c')."""
    return frozenset(key for phrase in spec.split('|') for key in phrase_keys(phrase))


ABILITY_PHRASES = {lang: {kind: phrase_set(spec) for kind, spec in kinds.items()}
                   for lang, kinds in ABILITY.items()}
DEFINITE_WORDS = {lang: frozenset(k[0] for k in phrase_set(spec))
                  for lang, spec in DEFINITE.items()}
PROWORD_PHRASES = {lang: phrase_set(spec) for lang, spec in PROWORDS.items()}
RESTATER_PHRASES = {lang: phrase_set(spec) for lang, spec in RESTATERS.items()}
BRAKE_PHRASES = {lang: phrase_set(spec) for lang, spec in BRAKES.items()}
REFLEXIVE_TURN_PHRASES = {lang: phrase_set(spec) for lang, spec in REFLEXIVE_TURNS.items()}
TAKE_WORDS = {lang: frozenset(k[0] for k in phrase_set(spec)) for lang, spec in TAKES.items()}
APPOSITIVE_PHRASES = {lang: phrase_set(spec) for lang, spec in APPOSITIVES.items()}
PURPOSE_PHRASES = {lang: phrase_set(spec) for lang, spec in PURPOSES.items()}
STATION_PHRASES = {lang: phrase_set(spec) for lang, spec in STATIONS.items()}
