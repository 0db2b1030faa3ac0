"""Built-in word lists and vectorised text builders for the synthetic creator world.

Private to :mod:`training.simulate`. The lists are small and hand-written: enough variety that a
topic model has to learn niches from words rather than from fixed sentences, in six languages.
Chinese and Japanese text is joined without spaces, as it is written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NICHES = (
    "fitness",
    "beauty",
    "fashion",
    "travel",
    "food",
    "gaming",
    "tech",
    "parenting",
    "finance",
    "music",
    "pets",
    "outdoor",
)
LANGUAGES = ("en", "es", "de", "pt", "ja", "zh")
# Languages written without spaces between words.
NO_SPACE = ("ja", "zh")

# Related niches: a brand in one niche is a partial fit for creators in the other.
RELATED = {
    "fitness": ("outdoor", "food"),
    "beauty": ("fashion",),
    "fashion": ("beauty", "music"),
    "travel": ("outdoor", "food"),
    "food": ("parenting", "travel", "fitness"),
    "gaming": ("tech", "music"),
    "tech": ("gaming", "finance"),
    "parenting": ("food", "pets"),
    "finance": ("tech",),
    "music": ("fashion", "gaming"),
    "pets": ("parenting", "outdoor"),
    "outdoor": ("travel", "fitness", "pets"),
}

# Niche words per language: "|"-separated within a niche, niches in NICHES order.
_WORDS = {
    "en": (
        "workout|gym|squats|protein|cardio|gains|hiit|deadlift|mobility|leg day|macros|reps",
        "skincare|makeup|serum|lipstick|glow|foundation|mascara|routine|spf|contour|blush|brows",
        "outfit|ootd|streetwear|denim|sneakers|style|vintage|lookbook|tailoring|thrift|knit",
        "wanderlust|beach|itinerary|flight|hostel|sunset|passport|roadtrip|island|old town|hike",
        "recipe|brunch|pasta|baking|sourdough|vegan|spicy|dessert|homemade|ramen|tacos|meal prep",
        "gameplay|stream|fps|speedrun|console|esports|loot|boss fight|ranked|controller|patch",
        "smartphone|laptop|unboxing|gadget|review|specs|battery|ai|keyboard|setup|coding|chip",
        "toddler|newborn|mom life|bedtime|nursery|family|parenting tips|school run|naps|dad",
        "investing|stocks|budget|savings|etf|dividends|crypto|side hustle|retirement|debt free",
        "guitar|new single|studio|concert|vinyl|playlist|beat|cover|songwriting|tour|album",
        "puppy|kitten|dog walk|adoption|treats|vet visit|cat|good boy|rescue|grooming|paws",
        "camping|trail|summit|kayak|wilderness|tent|climbing|national park|fishing|backpacking",
    ),
    "es": (
        "entrenamiento|gimnasio|sentadillas|proteína|cardio|rutina|pesas|abdominales",
        "maquillaje|cuidado de la piel|sérum|labial|rímel|base|rutina facial|brillo",
        "look|moda|vestido|zapatillas|estilo|tendencia|vaqueros|conjunto",
        "viaje|playa|vuelo|atardecer|mochila|aventura|escapada|isla",
        "receta|comida casera|tapas|postre|cocina|paella|desayuno|sabor",
        "partida|videojuego|directo|consola|torneo|jefe final|mando|clasificatoria",
        "móvil|portátil|tecnología|reseña|batería|gadget|teclado|inteligencia artificial",
        "bebé|maternidad|familia|niños|siesta|crianza|papá|mamá",
        "inversión|ahorro|bolsa|presupuesto|finanzas|dividendos|criptomonedas|deudas",
        "guitarra|canción|concierto|estudio|disco|gira|ritmo|letra",
        "perrito|gatito|mascota|adopción|paseo|veterinario|premios|rescate",
        "acampada|sendero|montaña|cumbre|tienda de campaña|escalada|naturaleza|kayak",
    ),
    "de": (
        "training|fitnessstudio|kniebeugen|eiweiß|ausdauer|muskelaufbau|trainingsplan|hanteln",
        "hautpflege|schminke|serum|lippenstift|wimperntusche|routine|sonnenschutz|glanz",
        "outfit|mode|jeans|turnschuhe|stil|kleid|secondhand|herbstlook",
        "reise|strand|flug|sonnenuntergang|rucksack|abenteuer|altstadt|insel",
        "rezept|backen|nudeln|nachtisch|hausgemacht|frühstück|kuchen|eintopf",
        "zocken|spiel|stream|konsole|turnier|endgegner|controller|rangliste",
        "handy|laptop|technik|test|akku|tastatur|gadget|künstliche intelligenz",
        "baby|kleinkind|familie|kinder|mittagsschlaf|elternzeit|papa|mama",
        "geldanlage|aktien|sparen|haushaltsbuch|etf|dividende|rente|schuldenfrei",
        "gitarre|neuer song|konzert|tonstudio|schallplatte|tour|album|songtext",
        "welpe|kätzchen|hund|gassi|tierarzt|leckerli|tierheim|fellpflege",
        "zelten|wanderweg|gipfel|kajak|wildnis|klettern|nationalpark|angeln",
    ),
    "pt": (
        "treino|academia|agachamento|proteína|cardio|hipertrofia|foco|musculação",
        "maquiagem|skincare|sérum|batom|rímel|base|rotina|brilho",
        "look do dia|moda|jeans|tênis|estilo|vestido|brechó|tendência",
        "viagem|praia|voo|pôr do sol|mochilão|aventura|ilha|roteiro",
        "receita|comida caseira|bolo|sobremesa|cozinha|feijoada|café da manhã|sabor",
        "jogatina|videogame|live|console|campeonato|chefão|controle|ranqueada",
        "celular|notebook|tecnologia|análise|bateria|teclado|gadget|inteligência artificial",
        "bebê|maternidade|família|crianças|soneca|papai|mamãe|rotina do bebê",
        "investimentos|ações|poupança|orçamento|finanças|dividendos|renda extra|dívidas",
        "violão|música nova|show|estúdio|disco|turnê|batida|letra",
        "cachorro|gatinho|pet|adoção|passeio|veterinário|petisco|resgate",
        "acampamento|trilha|cume|caiaque|natureza|escalada|parque nacional|pescaria",
    ),
    "ja": (
        "筋トレ|ジム|スクワット|プロテイン|有酸素|ダイエット|トレーニング|腹筋",
        "スキンケア|メイク|美容液|リップ|マスカラ|ファンデ|コスメ|美肌",
        "コーデ|ファッション|デニム|スニーカー|古着|ワンピース|今日の服|トレンド",
        "旅行|ビーチ|フライト|夕日|温泉|絶景|島|観光",
        "レシピ|手料理|ラーメン|スイーツ|お弁当|朝ごはん|パン作り|カフェ",
        "ゲーム実況|配信|ゲーム|コントローラー|大会|ボス戦|ランクマ|攻略",
        "スマホ|ノートパソコン|ガジェット|レビュー|バッテリー|キーボード|開箱|生成AI",
        "育児|赤ちゃん|子育て|家族|お昼寝|保育園|パパ|ママ",
        "投資|株|節約|家計簿|配当|積立|副業|老後資金",
        "ギター|新曲|ライブ|スタジオ|レコード|ツアー|アルバム|歌詞",
        "子犬|子猫|わんこ|にゃんこ|お散歩|動物病院|おやつ|保護犬",
        "キャンプ|登山|山頂|カヤック|自然|クライミング|国立公園|釣り",
    ),
    "zh": (
        "健身|锻炼|深蹲|蛋白粉|有氧|增肌|减脂|打卡",
        "护肤|化妆|精华|口红|睫毛膏|粉底|美妆|素颜",
        "穿搭|时尚|牛仔|球鞋|风格|连衣裙|古着|潮流",
        "旅行|海边|航班|日落|背包|攻略|小岛|古镇",
        "食谱|家常菜|火锅|甜品|烘焙|早餐|美食|面条",
        "游戏|直播|主机|电竞|手柄|排位|打boss|攻略",
        "手机|笔记本|数码|测评|电池|键盘|开箱|人工智能",
        "育儿|宝宝|亲子|家庭|午睡|幼儿园|爸爸|妈妈",
        "理财|股票|存钱|记账|基金|分红|副业|退休",
        "吉他|新歌|演唱会|录音室|黑胶|巡演|专辑|歌词",
        "狗狗|猫咪|宠物|领养|遛狗|宠物医院|零食|救助",
        "露营|徒步|山顶|皮划艇|大自然|攀岩|国家公园|钓鱼",
    ),
}

# Filler words per language: the non-topical part of a caption.
_FILLER = {
    "en": "today|new|this week|finally|so happy|my favourite|can't wait|honestly|little|"
    "weekend|morning vibes|throwback|swipe|link in bio|what do you think|best|the",
    "es": "hoy|nuevo|esta semana|por fin|muy feliz|mi favorito|qué opináis|fin de semana|"
    "mañana|link en la bio|mejor|un día",
    "de": "heute|neu|diese woche|endlich|so glücklich|mein liebling|was meint ihr|wochenende|"
    "morgen|link in der bio|beste|ein tag",
    "pt": "hoje|novo|essa semana|finalmente|muito feliz|meu favorito|o que acham|fim de semana|"
    "manhã|link na bio|melhor|um dia",
    "ja": "今日|新しい|今週|やっと|嬉しい|お気に入り|どう思う|週末|朝|リンクはプロフ|最高|一日",
    "zh": "今天|新的|这周|终于|好开心|最爱|你们觉得呢|周末|早上|链接在主页|最好|一天",
}

_HASHTAGS = {
    "fitness": "#fitness|#gym|#workout|#fitfam|#legday|#strong",
    "beauty": "#beauty|#skincare|#makeup|#glowup|#mua|#cleanbeauty",
    "fashion": "#fashion|#ootd|#style|#streetstyle|#outfit|#thrifted",
    "travel": "#travel|#wanderlust|#travelgram|#explore|#vacation|#roadtrip",
    "food": "#food|#foodie|#recipe|#homemade|#yummy|#foodstagram",
    "gaming": "#gaming|#gamer|#twitch|#esports|#gameplay|#videogames",
    "tech": "#tech|#gadgets|#unboxing|#techreview|#ai|#setup",
    "parenting": "#parenting|#momlife|#dadlife|#toddler|#familytime|#newborn",
    "finance": "#finance|#investing|#money|#stocks|#budgeting|#personalfinance",
    "music": "#music|#newmusic|#guitar|#livemusic|#singer|#producer",
    "pets": "#pets|#dogsofinstagram|#catsofinstagram|#puppy|#adoptdontshop|#petlife",
    "outdoor": "#outdoors|#hiking|#camping|#mountains|#naturelovers|#adventure",
}
_EMOJI = {
    "fitness": "💪|🏋️|🔥|🥗|⏱️",
    "beauty": "💄|✨|💅|🌸|🪞",
    "fashion": "👗|👟|🛍️|🖤|✨",
    "travel": "✈️|🌍|🏝️|🌅|🧳",
    "food": "🍝|🍰|🥑|😋|🍜",
    "gaming": "🎮|🕹️|👾|🏆|⚔️",
    "tech": "📱|💻|🔋|⌨️|🤖",
    "parenting": "👶|🍼|❤️|🧸|👨‍👩‍👧",
    "finance": "💰|📈|💸|🏦|📊",
    "music": "🎸|🎤|🎶|🎧|🥁",
    "pets": "🐶|🐱|🐾|🦴|❤️",
    "outdoor": "🏕️|⛰️|🌲|🛶|🥾",
}

_ROLE = {
    "en": "fitness coach|beauty lover|style diary|travel addict|home cook|gamer and streamer|"
    "tech reviewer|mum of two|money nerd|singer-songwriter|dog parent|trail runner",
    "es": "entrenador personal|amante de la belleza|diario de moda|viajera|cocinera casera|"
    "gamer y streamer|reseñas de tecnología|mamá de dos|finanzas personales|cantautora|"
    "mamá perruna|montañero",
    "de": "fitnesstrainer|beauty-liebhaberin|modetagebuch|reisesüchtig|hobbykoch|"
    "gamer und streamer|technik-tester|mama von zwei|finanzblog|singer-songwriter|hundemama|"
    "bergsteiger",
    "pt": "personal trainer|apaixonada por beleza|diário de moda|viajante|cozinheira de casa|"
    "gamer e streamer|análises de tecnologia|mãe de dois|finanças pessoais|cantora|"
    "mãe de pet|trilheiro",
    "ja": "パーソナルトレーナー|美容好き|ファッション日記|旅好き|おうちごはん|ゲーム実況者|"
    "ガジェットレビュー|二児のママ|投資初心者|シンガーソングライター|犬と暮らす|山好き",
    "zh": "健身教练|美妆爱好者|穿搭日记|旅行达人|家常菜|游戏主播|数码博主|二胎妈妈|理财小白|"
    "独立音乐人|铲屎官|户外爱好者",
}
_CONTACT = {
    "en": "collabs: hello@|business inquiries via dm|📩 contact@|links below",
    "es": "colaboraciones: hola@|contacto por dm|📩 info@|enlaces abajo",
    "de": "kooperationen: hallo@|anfragen per dm|📩 kontakt@|links unten",
    "pt": "parcerias: contato@|publis via dm|📩 oi@|links abaixo",
    "ja": "お仕事の依頼はDMへ|📩 info@|リンクはこちら|コラボ募集中",
    "zh": "合作请私信|📩 商务@|链接在下方|欢迎合作",
}
_SPONSOR_TAG = {
    "en": "#ad|#sponsored|#partner",
    "es": "#publi|#anuncio|#colaboración",
    "de": "#werbung|#anzeige|#ad",
    "pt": "#publi|#publicidade|#parceria",
    "ja": "#PR|#提供|#タイアップ",
    "zh": "#广告|#合作|#推广",
}

# Organic comment openers per language; niche words and emoji are appended.
_COMMENT = {
    "en": "love this|so good|where did you get this|this is amazing|need to try this|great tips|"
    "thanks for sharing|can't wait for the next one|how long did this take|goals|obsessed with|"
    "you always nail the|saving this|what brand is the",
    "es": "me encanta|qué bueno|dónde lo compraste|increíble|tengo que probarlo|gracias por "
    "compartir|qué ganas del próximo|me lo guardo|qué marca es",
    "de": "liebe das|so gut|wo hast du das her|der hammer|muss ich ausprobieren|danke fürs teilen|"
    "freu mich aufs nächste|gespeichert|welche marke ist das",
    "pt": "amei|que lindo|onde você comprou|incrível|preciso testar|obrigada por compartilhar|"
    "ansiosa pelo próximo|salvei|qual a marca",
    "ja": "最高です|素敵|どこで買えますか|すごい|試してみたい|参考になります|"
    "次も楽しみ|保存しました",
    "zh": "太喜欢了|好棒|在哪里买的|太厉害了|想试试|谢谢分享|期待下一期|收藏了",
}
# Generic spam, in English whatever the creator writes (a language mismatch is itself a signal).
SPAM_COMMENTS = (
    "nice pic",
    "wow",
    "nice",
    "cool",
    "great post",
    "🔥🔥🔥",
    "😍😍😍",
    "👏👏",
    "❤️",
    "💯",
    "follow back",
    "f4f",
    "follow me pls",
    "check my page",
    "dm for collab 📩",
    "promote it on @growthpage",
)
# What engagement pods write: short, generic praise, the same few lines.
POD_COMMENTS = (
    "Great post!",
    "Amazing content 🙌",
    "Love this!!",
    "So inspiring ✨",
    "Yesss 🔥",
    "Beautiful shot 😍",
    "Keep it up!",
    "Awesome 👏",
    "This is everything",
    "Stunning!!",
)

FIRST_NAMES = (
    "anna|ben|carla|david|emma|felix|gina|hugo|ines|jack|kim|leo|maya|nico|olivia|paul|rosa|sam|"
    "tina|umar|vera|will|yara|zoe|lena|marco|sofia|lucas|julia|noah|mia|tom|ella|omar|lara|ivan|"
    "chen|yuki|haruto|mei|diego|lucia|pedro|beatriz|jonas|clara"
).split("|")
LAST_NAMES = (
    "smith|meyer|garcia|silva|tanaka|wang|muller|rossi|johnson|lopez|santos|schmidt|brown|li|"
    "kim|martin|costa|fischer|nguyen|ali|weber|moreno|sato|zhang|perez|oliveira|becker|taylor"
).split("|")
HANDLE_WORDS = (
    "fit|glow|style|wander|eats|plays|techie|family|money|sounds|paws|wild|daily|life|vibes|"
    "studio|journal|lab|club|world|stories|hq|official|diaries"
).split("|")

# Brand briefs: product per niche, audiences, values and excluded topics, per brief language.
BRAND_PRODUCT = {
    "en": (
        "protein snacks and resistance bands|vegan skincare and clean make-up|"
        "affordable streetwear and sneakers|boutique hotels and travel insurance|"
        "meal kits and organic pantry staples|gaming headsets and controllers|"
        "wireless earbuds and smart home gadgets|baby carriers and organic kids' clothing|"
        "a budgeting app and low-fee index investing|home-studio microphones and guitar strings|"
        "grain-free pet food and dog toys|hiking boots and lightweight camping gear"
    ),
    "es": (
        "snacks de proteína y bandas elásticas para entrenar|cosmética vegana y maquillaje natural|"
        "ropa urbana y zapatillas asequibles|hoteles boutique y seguros de viaje|"
        "kits de comida y despensa ecológica|auriculares y mandos para videojuegos|"
        "auriculares inalámbricos y gadgets para el hogar|portabebés y ropa infantil ecológica|"
        "una app de presupuesto e inversión indexada|micrófonos de estudio y cuerdas de guitarra|"
        "pienso sin cereales y juguetes para perros|botas de montaña y material de acampada"
    ),
    "de": (
        "Proteinriegel und Fitnessbänder|vegane Hautpflege und Naturkosmetik|"
        "bezahlbare Streetwear und Sneaker|Boutique-Hotels und Reiseversicherungen|"
        "Kochboxen und Bio-Vorräte|Gaming-Headsets und Controller|"
        "kabellose Kopfhörer und Smart-Home-Gadgets|Babytragen und Bio-Kinderkleidung|"
        "eine Haushaltsbuch-App und günstige ETF-Sparpläne|Studiomikrofone und Gitarrensaiten|"
        "getreidefreies Tierfutter und Hundespielzeug|Wanderschuhe und leichte Campingausrüstung"
    ),
}
BRAND_AUDIENCE = {
    "en": "young urban professionals|students on a budget|busy parents|active people over 40|"
    "first-time buyers|enthusiasts who care about quality",
    "es": "jóvenes profesionales urbanos|estudiantes con poco presupuesto|familias ocupadas|"
    "personas activas de más de 40|quienes compran por primera vez",
    "de": "junge Berufstätige in der Stadt|Studierende mit kleinem Budget|vielbeschäftigte Eltern|"
    "aktive Menschen über 40|Qualitätsbewusste Fans",
}
BRAND_VALUES = {
    "en": "sustainability and honest sourcing|inclusivity and real people|performance you can "
    "measure|transparency and fair prices|craft and durability|fun without the fluff",
    "es": "la sostenibilidad|la inclusión y la gente real|la transparencia y los precios justos|"
    "la artesanía y la durabilidad",
    "de": "Nachhaltigkeit und faire Herkunft|Vielfalt und echte Menschen|Transparenz und faire "
    "Preise|Handwerk und Langlebigkeit",
}
BRAND_NAME_A = "nova|peak|bright|urban|true|wild|pure|blue|north|happy|swift|kind".split("|")
BRAND_NAME_B = "labs|co|works|goods|supply|collective|house|studio".split("|")
# How a brief names a niche it will not appear next to, per brief language.
EXCLUDED_PHRASE = {
    "en": "extreme dieting|cosmetic surgery promotion|fast-fashion hauls|travel content|"
    "fast food and alcohol|violent video games|crypto gadgets|content featuring children|"
    "gambling or get-rich-quick finance|explicit music|pet content|hunting and fishing",
    "es": "dietas extremas|cirugía estética|compras de moda rápida|contenido de viajes|"
    "comida rápida y alcohol|videojuegos violentos|gadgets de criptomonedas|contenido con niños|"
    "apuestas o finanzas para hacerse rico rápido|música explícita|contenido de mascotas|"
    "caza y pesca",
    "de": "Crash-Diäten|Schönheitsoperationen|Fast-Fashion-Hauls|Reiseinhalte|"
    "Fast Food und Alkohol|gewalthaltige Videospiele|Krypto-Gadgets|Inhalte mit Kindern|"
    "Glücksspiel oder Reich-werden-schnell-Finanzen|explizite Musik|Tierinhalte|Jagen und Angeln",
}
BRIEF_TEMPLATE = {
    "en": "{name} sells {product} to {audience}. We value {values}.",
    "es": "{name} vende {product} para {audience}. Valoramos {values}.",
    "de": "{name} verkauft {product} für {audience}. Uns wichtig: {values}.",
}
EXCLUDED_TEMPLATE = {
    "en": " We do not work with creators who post about {topics}.",
    "es": " No trabajamos con creadores que publiquen sobre {topics}.",
    "de": " Keine Zusammenarbeit mit Creators, die über {topics} posten.",
}
OR_WORD = {"en": " or ", "es": " o ", "de": " oder "}


def _split(s: str) -> np.ndarray:
    return np.array(s.split("|"), dtype=object)


def word_table(lang: str) -> list[np.ndarray]:
    """Niche word arrays for one language, in NICHES order."""
    return [_split(s) for s in _WORDS[lang]]


def pick_at(options: list[np.ndarray], group: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Element ``idx[i] mod len`` of ``options[group[i]]`` per row (a list of arrays)."""
    out = np.empty(len(group), dtype=object)
    # Loop over the few groups (niches, languages), never over rows.
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        arr = options[g]
        out[rows] = arr[idx[rows] % len(arr)]
    return out


def pick(rng: np.random.Generator, options: list[np.ndarray], group: np.ndarray) -> np.ndarray:
    """One random element of ``options[group[i]]`` per row."""
    return pick_at(options, group, rng.integers(0, 1 << 30, len(group)))


def join_rows(parts: list[np.ndarray], sep: np.ndarray | str = " ") -> np.ndarray:
    """Join per-row string parts with ``sep``, skipping empty parts."""
    n = len(parts[0])
    out = np.full(n, "", dtype=object)
    started = np.zeros(n, dtype=bool)
    sep_arr = np.broadcast_to(np.asarray(sep, dtype=object), (n,))
    for p in parts:
        p = np.broadcast_to(np.asarray(p, dtype=object), (n,))
        has = p != ""
        if not has.any():
            continue
        # Only rows with this part change; the others keep their text untouched.
        rows = np.flatnonzero(has)
        glue = np.where(started[rows], sep_arr[rows], "")
        out[rows] = out[rows] + glue + p[rows]
        started |= has
    return out


def niche_words(
    rng: np.random.Generator, niche: np.ndarray, lang: np.ndarray, idx: np.ndarray | None = None
) -> np.ndarray:
    """One niche word per row in the row's language (word ``idx`` if given, else random)."""
    if idx is None:
        idx = rng.integers(0, 1 << 30, len(niche))
    out = np.empty(len(niche), dtype=object)
    for li, lang_code in enumerate(LANGUAGES):
        rows = np.flatnonzero(lang == li)
        if rows.size:
            out[rows] = pick_at(word_table(lang_code), niche[rows], idx[rows])
    return out


def per_lang(rng: np.random.Generator, table: dict[str, str], lang: np.ndarray) -> np.ndarray:
    """One random entry of ``table[language]`` per row."""
    return pick(rng, [_split(table[code]) for code in LANGUAGES], lang)


def per_niche(rng: np.random.Generator, table: dict[str, str], niche: np.ndarray) -> np.ndarray:
    """One random entry of ``table[niche]`` per row."""
    return pick(rng, [_split(table[nm]) for nm in NICHES], niche)


def role_of(niche: np.ndarray, lang: np.ndarray) -> np.ndarray:
    """The bio's self-description for each (niche, language)."""
    roles = np.array([_split(_ROLE[code]) for code in LANGUAGES], dtype=object)
    return roles[lang, niche]


def collapse_cjk(text: np.ndarray, lang: np.ndarray) -> np.ndarray:
    """Remove the spaces between words for languages written without them."""
    out = text.copy()
    for code in NO_SPACE:
        rows = np.flatnonzero(lang == LANGUAGES.index(code))
        if rows.size:
            # Only the word part is joined; hashtags and mentions keep their spaces after.
            out[rows] = pd.Series(text[rows]).str.replace(" ", "", regex=False).to_numpy(object)
    return out


def captions(
    rng: np.random.Generator,
    niche: np.ndarray,
    lang: np.ndarray,
    sponsored: np.ndarray,
    mention: np.ndarray,
    sponsor_handle: np.ndarray,
) -> np.ndarray:
    """Caption per post: words from the niche and filler, emoji, hashtags, mentions, #ad."""
    n = len(niche)
    n_words = rng.integers(3, 9, n)
    # Walk the word lists from a random start with a random stride: few repeats per caption.
    start, stride = rng.integers(0, 1 << 20, n), rng.integers(1, 4, n)
    start2 = rng.integers(0, 1 << 20, n)
    fillers = [_split(_FILLER[code]) for code in LANGUAGES]
    words = []
    for k in range(8):
        use_niche = rng.random(n) < 0.55
        w = np.where(
            use_niche,
            niche_words(rng, niche, lang, start + k * stride),
            pick_at(fillers, lang, start2 + k * 5),
        )
        words.append(np.where(k < n_words, w, ""))
    body = collapse_cjk(join_rows(words), lang)
    emoji = join_rows(
        [np.where(rng.random(n) < p, per_niche(rng, _EMOJI, niche), "") for p in (0.7, 0.35)],
        "",
    )
    tags = []
    n_tags = rng.integers(0, 6, n)
    tag_start = rng.integers(0, 1 << 20, n)
    global_tags = [_split(_HASHTAGS[nm]) for nm in NICHES]
    for k in range(5):
        t = pick_at(global_tags, niche, tag_start + k)
        # Non-English creators mix in a tag made of a niche word in their language.
        local = (lang > 0) & (k == 1)
        if local.any():
            word = niche_words(rng, niche[local], lang[local])
            t[local] = "#" + pd.Series(word).str.replace(" ", "", regex=False).to_numpy(object)
        tags.append(np.where(k < n_tags, t, ""))
    sponsor = np.where(
        sponsored, join_rows([per_lang(rng, _SPONSOR_TAG, lang), "@" + sponsor_handle]), ""
    )
    return join_rows([body, emoji, np.where(mention != "", "@" + mention, ""), *tags, sponsor])


def bios(rng: np.random.Generator, niche: np.ndarray, lang: np.ndarray) -> np.ndarray:
    """Profile text: emoji, role, two niche words, a contact line; some bios are empty."""
    n = len(niche)
    sep = np.where(np.isin(lang, [LANGUAGES.index(c) for c in NO_SPACE]), "・", " · ")
    first = rng.integers(0, 1 << 20, n)
    words = join_rows(
        [niche_words(rng, niche, lang, first), niche_words(rng, niche, lang, first + 1)], sep
    )
    bio = join_rows([per_niche(rng, _EMOJI, niche), role_of(niche, lang), "|", words, "|"], " ")
    bio = join_rows([bio, per_lang(rng, _CONTACT, lang)], " ")
    return np.where(rng.random(n) < 0.05, "", bio)


def organic_comments(rng: np.random.Generator, niche: np.ndarray, lang: np.ndarray) -> np.ndarray:
    """A real follower's comment: an opener in the creator's language, maybe a word, maybe emoji."""
    n = len(niche)
    opener = per_lang(rng, _COMMENT, lang)
    word = np.where(rng.random(n) < 0.4, niche_words(rng, niche, lang), "")
    text = collapse_cjk(join_rows([opener, word]), lang)
    tail = np.where(rng.random(n) < 0.5, per_niche(rng, _EMOJI, niche), "")
    punct = np.where(rng.random(n) < 0.3, "!", "")
    return join_rows([text + punct, tail])
