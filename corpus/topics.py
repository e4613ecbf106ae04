"""Hand-written topic material for the sample corpus.

Each topic is tied to one real leaf of `finevideo_taxonomy.json` so that a taxonomy labeller can be
checked against the intended label. Sentences are self-contained, so any ordered subset of a pool
still reads as one coherent talk; several carry a named speaker ("Maria: ...") and a checkable fact
(a number, a name, a duration), which the question-writing stages need.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    name: str
    followers: int


@dataclass(frozen=True)
class Topic:
    key: str
    leaf: tuple[str, ...]  # full taxonomy path: leaf names are not unique
    youtube_category: str
    tags: tuple[str, ...]
    channels: tuple[Channel, ...]
    titles: tuple[str, ...]
    intro: str  # "{channel}" is filled in
    sentences: tuple[str, ...]
    outro: str
    slide_lines: tuple[str, ...]  # text for still pictures and slides

    @property
    def leaf_path(self) -> str:
        return " > ".join(self.leaf)


TOPICS: tuple[Topic, ...] = (
    Topic(
        key="bread",
        leaf=("Lifestyle", "Food & Cooking", "Recipe Videos"),
        youtube_category="Howto & Style",
        tags=("sourdough", "bread recipe", "baking", "home baking"),
        channels=(Channel("Hearth & Crumb Kitchen", 182_000), Channel("Sunday Oven", 3_900)),
        titles=(
            "Easy Sourdough Bread Recipe for Beginners",
            "Overnight Focaccia with Rosemary and Sea Salt",
            "Soft Whole Wheat Sandwich Loaf Recipe",
            "Crusty No-Knead Bread in a Dutch Oven",
        ),
        intro="Welcome back to {channel}, where today we bake bread from scratch in a home kitchen.",
        sentences=(
            "Maria: For this loaf we need 500 grams of bread flour, 350 grams of water and 10 grams of salt.",
            "Tom: The starter should be active and bubbly, so feed it about six hours before you mix.",
            "We mix the flour and water first and let the dough rest for 30 minutes before adding the salt.",
            "Maria: This resting step is called the autolyse, and it makes the dough much easier to stretch.",
            "Every half hour we do a set of stretch and folds, four sets in total.",
            "Tom: Wet your hands with a little water so the dough does not stick to your fingers.",
            "After the folds the dough should look smooth and have grown by about half.",
            "Maria: Now we shape it into a tight ball and place it seam side up in a floured basket.",
            "The shaped dough goes into the fridge overnight, for about twelve hours.",
            "Cold proofing develops a deeper flavour and makes scoring the top much easier.",
            "Tom: Preheat the oven with the Dutch oven inside to 250 degrees Celsius for a full hour.",
            "Maria: Score the loaf with one confident cut about one centimetre deep.",
            "Bake it covered for 20 minutes, then remove the lid and bake another 25 minutes.",
            "The crust should be deep brown, and the loaf should sound hollow when you tap the bottom.",
            "Tom: Let it cool on a rack for at least one hour before slicing, or the crumb turns gummy.",
            "If your kitchen is cold, the bulk fermentation can take two or three hours longer.",
            "Maria: Rice flour in the basket stops the dough from sticking far better than wheat flour.",
            "A little olive oil and coarse salt on top turns the same dough into a lovely focaccia.",
            "Tom: Write down the times and temperatures, because every kitchen behaves a bit differently.",
            "The most common mistake is cutting the bulk fermentation short, which gives a dense loaf.",
        ),
        outro="That is our loaf for today; tell us in the comments how your bake turned out.",
        slide_lines=("Sourdough basics", "500 g flour", "350 g water", "10 g salt", "Bake 250 C"),
    ),
    Topic(
        key="python",
        leaf=("Education", "Tutorials", "Software Tutorials"),
        youtube_category="Education",
        tags=("python", "programming", "coding tutorial", "beginners"),
        channels=(Channel("Byte-Sized Code", 48_500),),
        titles=(
            "Python Lists and Loops Explained in Ten Minutes",
            "Writing Your First Python Function",
            "Reading a CSV File in Python Step by Step",
        ),
        intro="Hi, this is {channel}, and in this lesson we write a small Python program together.",
        sentences=(
            "Priya: First, open a terminal and check that you have Python 3.12 installed.",
            "We create a new file called shopping.py in an empty project folder.",
            "A list in Python is written with square brackets, and the items are separated by commas.",
            "Priya: Our list holds four items: apples, bread, milk and coffee.",
            "To visit every item we use a for loop, which runs the indented block once per element.",
            "Priya: Indentation matters in Python, so always use four spaces inside the loop.",
            "The len function returns how many items the list holds, which is four in our example.",
            "Next, we wrap the loop in a function called print_items that takes the list as a parameter.",
            "Priya: A function starts with the keyword def, followed by its name and parentheses.",
            "The return statement hands a value back to the caller, for example the number of items.",
            "We call the function at the bottom of the file and run the script with python shopping.py.",
            "If you see a NameError, check that you spelled the variable the same way everywhere.",
            "Priya: The csv module from the standard library reads spreadsheet files line by line.",
            "Each row comes back as a list of strings, so convert numbers with int or float.",
            "Comments start with a hash sign and help you remember why the code does what it does.",
            "Priya: Save often, and run the script after every small change so errors stay easy to find.",
            "Our finished program prints each item and then reports a total of four items.",
            "As homework, add a second list of prices and print the total cost of the shopping.",
        ),
        outro="The code is linked below; see you in the next lesson on dictionaries.",
        slide_lines=("Python basics", "lists [ ]", "for item in items:", "def print_items():"),
    ),
    Topic(
        key="astronomy",
        leaf=("Science & Technology", "Space Exploration", "Astronomy"),
        youtube_category="Science & Technology",
        tags=("astronomy", "jupiter", "stargazing", "telescope"),
        channels=(Channel("Night Sky Notes", 9_800),),
        titles=(
            "How to See Jupiter's Moons with a Small Telescope",
            "Finding Saturn's Rings from Your Backyard",
            "A Beginner's Guide to the Winter Night Sky",
        ),
        intro="Good evening from {channel}; tonight we point a small telescope at the planets.",
        sentences=(
            "Elena: Jupiter is the brightest point of light in the east after sunset this month.",
            "Even ordinary binoculars show its four largest moons as tiny points in a line.",
            "Elena: Galileo Galilei discovered those four moons in January 1610.",
            "Their names are Io, Europa, Ganymede and Callisto, from the closest to the farthest.",
            "Ganymede is the largest moon in the solar system and is bigger than the planet Mercury.",
            "Elena: Io goes around Jupiter in about 42 hours, so you can watch it move in one night.",
            "A telescope with a 70 millimetre lens already shows the two dark cloud belts of Jupiter.",
            "Let the telescope cool outside for 30 minutes so the image stops shimmering.",
            "Elena: Start with the lowest magnification, then switch to a stronger eyepiece.",
            "Saturn's rings are made of ice and rock and are visible at about 25 times magnification.",
            "The rings are only a few tens of metres thick even though they are very wide.",
            "Elena: A red torch keeps your eyes adapted to the dark while you read your star chart.",
            "Light pollution hides faint stars, so drive away from the city if you can.",
            "The Orion Nebula is a cloud of gas where new stars are forming right now.",
            "Elena: Write down the time and sketch what you see; that is how astronomers keep records.",
            "Clear skies are most common on cold, dry nights after a weather front has passed.",
        ),
        outro="Clear skies, everyone, and send us your sketches of Jupiter's moons.",
        slide_lines=("Jupiter's moons", "Io", "Europa", "Ganymede", "Callisto"),
    ),
    Topic(
        key="sprint",
        leaf=("Sports", "Fitness & Training", "Training Techniques"),
        youtube_category="Sports",
        tags=("sprinting", "track and field", "speed training", "athletics"),
        channels=(Channel("Track Lab", 23_400),),
        titles=("Three Drills for a Faster Sprint Start", "How to Improve Your 100 Metre Time"),
        intro="This is {channel}, and today's session is all about sprint technique.",
        sentences=(
            "Coach Dana: Always warm up for at least 15 minutes before any sprint work.",
            "We start with A-skips, lifting the knee to hip height and landing under the body.",
            "Coach Dana: Keep your arms bent at ninety degrees and drive the elbows backwards.",
            "In the blocks, the front foot sits about two foot lengths behind the start line.",
            "On the set command the hips rise slightly above the shoulders.",
            "Coach Dana: The first three steps should push the ground back, not reach forward.",
            "Stay low for the first 20 metres and let your body rise gradually.",
            "Relaxed shoulders and a loose jaw let you keep your top speed for longer.",
            "Coach Dana: We do six starts over 30 metres with a full three minutes of rest between them.",
            "Short rests turn a speed session into an endurance session, which is not our goal today.",
            "Film your starts from the side so you can check the angle of your shin.",
            "Coach Dana: Most athletes lose time by standing up too early after the gun.",
            "Finish every session with ten minutes of easy jogging and gentle stretching.",
            "Sleep and food matter as much as the drills when you want to get faster.",
        ),
        outro="Try these drills twice a week and tell us your new personal best.",
        slide_lines=("Sprint start", "Warm up 15 min", "6 x 30 m", "Rest 3 min"),
    ),
    Topic(
        key="ev_review",
        leaf=("Automotive", "Car Reviews"),
        youtube_category="Autos & Vehicles",
        tags=("car review", "electric car", "ev", "test drive"),
        channels=(Channel("Torque & Tread", 1_250_000),),
        titles=(
            "Compact Electric Hatchback Review: Range, Charging and Comfort",
            "Family SUV Long-Term Review After 10,000 Kilometres",
            "Is This the Best Small EV of the Year? Full Test Drive",
        ),
        intro="Welcome to {channel}; we spent a week with this car so you do not have to.",
        sentences=(
            "Sam: The battery holds 58 kilowatt hours, and we saw about 390 kilometres of real range.",
            "Lena: On a fast charger it went from 10 to 80 percent in 28 minutes.",
            "The boot holds 385 litres, which is enough for two large suitcases and a pram.",
            "Sam: The motor makes 150 kilowatts, and it reaches 100 kilometres per hour in 7.4 seconds.",
            "Lena: The seats are comfortable, but the rear headroom is tight for anyone over 1.85 metres.",
            "The touchscreen is quick, although the climate controls are buried in a submenu.",
            "Sam: One-pedal driving works well in town and feeds energy back into the battery.",
            "On the motorway at 120 kilometres per hour the efficiency drops noticeably.",
            "Lena: Road noise is low, but the suspension feels firm over broken tarmac.",
            "The base model costs 36,900 euros before any government incentives.",
            "Sam: The warranty covers the battery for eight years or 160,000 kilometres.",
            "Heat pumps are optional, and we would recommend one if you live somewhere cold.",
            "Lena: Our average consumption over the week was 16.2 kilowatt hours per 100 kilometres.",
            "Sam: Overall we give it eight out of ten for value, comfort and charging speed.",
        ),
        outro="Let us know which car we should test next, and drive safely.",
        slide_lines=("Test summary", "Range 390 km", "10-80% in 28 min", "Score 8/10"),
    ),
    Topic(
        key="heat_interview",
        leaf=("News & Politics", "Interviews", "Expert Interviews"),
        youtube_category="News & Politics",
        tags=("interview", "urban heat", "climate", "city planning"),
        channels=(Channel("City Desk Weekly", 310_000),),
        titles=("Why Cities Are Getting Hotter: An Interview with Dr. Amara Osei",),
        intro="This is {channel}, and today I am joined by an expert on urban climate.",
        sentences=(
            "Jordan: Dr. Osei, thank you for joining us. What is an urban heat island?",
            "Dr. Osei: It is a city that stays several degrees warmer than the countryside around it.",
            "Dr. Osei: In our measurements the city centre was 4.5 degrees Celsius warmer at night.",
            "Jordan: What makes the centre so much warmer than the suburbs?",
            "Dr. Osei: Asphalt and concrete store heat during the day and release it after sunset.",
            "Dr. Osei: Air conditioners also push warm air into the streets, which adds to the problem.",
            "Jordan: Which measures work best, in your experience?",
            "Dr. Osei: Street trees are the most effective; a mature tree can cool the air below it by two degrees.",
            "Dr. Osei: Light-coloured roofs reflect sunlight and keep buildings cooler inside.",
            "Jordan: How long does it take before a city notices a difference?",
            "Dr. Osei: Roof programmes show results in one summer, but trees need about ten years to grow.",
            "Jordan: Who is most at risk during a heat wave?",
            "Dr. Osei: Older people living alone on upper floors are the most vulnerable group.",
            "Dr. Osei: Cooling centres in libraries saved lives during the heat wave of 2022.",
            "Jordan: What should listeners do this summer?",
            "Dr. Osei: Check on your neighbours, drink water, and keep curtains closed during the afternoon.",
        ),
        outro="Dr. Osei, thank you; that was City Desk Weekly, see you next week.",
        slide_lines=("Urban heat islands", "+4.5 C at night", "Trees: -2 C", "Cool roofs"),
    ),
    Topic(
        key="lantern_walkthrough",
        leaf=("Entertainment", "Gaming", "Walkthroughs"),
        youtube_category="Gaming",
        tags=("walkthrough", "puzzle game", "lanterns of veyra", "gameplay"),
        channels=(Channel("PixelPath", 76_000),),
        titles=(
            "Lanterns of Veyra Walkthrough Part 3: The Sunken Library",
            "Lanterns of Veyra Walkthrough Part 4: The Clock Tower Puzzle",
        ),
        intro="Hey everyone, {channel} here with the next part of the Lanterns of Veyra walkthrough.",
        sentences=(
            "Kai: We start in the hallway right after the save point at the library entrance.",
            "The first puzzle needs three blue lanterns lit in the right order.",
            "Kai: The order is left, right, then middle, which matches the mural on the ceiling.",
            "If you light them in the wrong order, the doors close and you start again.",
            "Kai: Grab the silver key behind the bookshelf before you go down the stairs.",
            "The flooded room hides a chest with the map fragment under the broken statue.",
            "Kai: You need the hookshot to cross the gap, so come back later if you skipped it.",
            "The clock tower puzzle asks you to set the hands to a quarter past nine.",
            "Kai: There are seven hidden letters in this chapter, and two of them are in the tower.",
            "The boss at the end is weak to fire, so switch to the red lantern when it glows.",
            "Kai: Dodge to the left when it raises both arms, because the slam hits the right side.",
            "After the fight, the library elevator opens and takes you to the next chapter.",
        ),
        outro="That is it for this part; the next episode covers the observatory.",
        slide_lines=("Chapter 3", "Blue lanterns", "Left - Right - Middle", "Silver key"),
    ),
    Topic(
        key="watercolour",
        leaf=("Art & Creativity", "Visual Arts", "Painting Tutorials"),
        youtube_category="Howto & Style",
        tags=("watercolour", "painting tutorial", "sunset", "art"),
        channels=(Channel("Wet Paper Studio", 15_600),),
        titles=("Paint a Watercolour Sunset in Three Layers", "Wet-on-Wet Watercolour Sky for Beginners"),
        intro="Welcome to {channel}; grab your brushes and let us paint a sunset together.",
        sentences=(
            "Ines: I am using 300 gram cold-pressed paper, taped down on all four sides.",
            "Ines: We only need three colours today: cadmium yellow, permanent rose and ultramarine blue.",
            "First, wet the whole sky area with clean water until the paper has an even shine.",
            "Drop the yellow near the horizon and let it spread on its own.",
            "Ines: Add the rose above the yellow while the paper is still damp, so the edges stay soft.",
            "The blue goes at the very top, and it should not touch the yellow or you will get green.",
            "Ines: Tilt the board gently to help the colours blend into each other.",
            "Let the first layer dry completely, which takes about 15 minutes.",
            "For the hills we mix ultramarine with a little rose to get a soft purple.",
            "Ines: Paint the silhouette of the trees last, with the tip of a size eight round brush.",
            "Leave a few white gaps in the sky; untouched paper gives the brightest highlights.",
            "Ines: If a bloom appears, do not fix it; those accidents are part of watercolour's charm.",
        ),
        outro="Share your sunsets with us, and keep painting every day.",
        slide_lines=("Watercolour sunset", "Yellow", "Rose", "Ultramarine"),
    ),
    Topic(
        key="hiking",
        leaf=("Hobbies & Interests", "Outdoor Activities", "Hiking"),
        youtube_category="Travel & Events",
        tags=("hiking", "day hike", "trail guide", "mountains"),
        channels=(Channel("Ridge & Ramble", 4_300),),
        titles=("Day Hike to Falcon Ridge: Trail Guide and Tips", "Packing List for a Safe Day Hike"),
        intro="Morning from the trailhead; this is {channel}, and we are hiking Falcon Ridge.",
        sentences=(
            "Ben: The loop is 14 kilometres long with 820 metres of climbing.",
            "Aiko: We started at seven in the morning to avoid the afternoon heat.",
            "The first four kilometres follow a river through a shady pine forest.",
            "Ben: There is a spring at the old hut where you can refill your bottles.",
            "Aiko: Pack at least two litres of water per person, plus a snack for every two hours.",
            "Above the tree line the path is marked with yellow paint on the rocks.",
            "Ben: The summit takes about three and a half hours at a steady pace.",
            "From the top you can see three lakes and, on a clear day, the coast.",
            "Aiko: The descent is steep and loose, so poles really help your knees here.",
            "Always tell someone your route and when you expect to be back.",
            "Ben: Check the forecast; thunderstorms often build over the ridge after two o'clock.",
            "Take all your rubbish home, including fruit peels, which take months to break down.",
        ),
        outro="Thanks for hiking with us; we will see you on the next trail.",
        slide_lines=("Falcon Ridge loop", "14 km", "820 m climb", "3.5 h to summit"),
    ),
    Topic(
        key="tomatoes",
        leaf=("Lifestyle", "Home & Garden", "Gardening Tips"),
        youtube_category="Howto & Style",
        tags=("gardening", "tomatoes", "balcony garden", "container gardening"),
        channels=(Channel("Balcony Harvest", 61_000),),
        titles=("Growing Tomatoes in Containers on a Balcony", "Five Mistakes When Growing Tomatoes"),
        intro="Hello and welcome to {channel}; today we grow tomatoes in pots.",
        sentences=(
            "Grace: Choose a pot of at least 20 litres for each tomato plant.",
            "Grace: Cherry varieties like Sungold do especially well on a sunny balcony.",
            "Tomatoes need six to eight hours of direct sunlight every day.",
            "Plant the seedling deeper than it sat in its nursery pot, so new roots grow along the stem.",
            "Grace: Water deeply in the morning, and water the soil, not the leaves.",
            "A layer of straw on top of the soil keeps it moist for much longer.",
            "Grace: Feed the plants with a tomato fertiliser every two weeks once the first flowers open.",
            "Pinch out the side shoots of cordon varieties so the plant puts its energy into fruit.",
            "Yellow lower leaves are normal, but spotted leaves can mean blight.",
            "Grace: Harvest when the fruit is fully coloured and comes away with a gentle twist.",
            "Uneven watering causes cracked fruit and blossom end rot.",
        ),
        outro="Happy growing, and show us your first harvest.",
        slide_lines=("Balcony tomatoes", "20 L pot", "6-8 h sun", "Feed every 2 weeks"),
    ),
    Topic(
        key="aqueducts",
        leaf=("Education", "History & Culture", "Historical Analysis"),
        youtube_category="Education",
        tags=("history", "ancient rome", "aqueducts", "engineering history"),
        channels=(Channel("Stone & Story", 540_000),),
        titles=("How Roman Aqueducts Really Worked", "The Engineering Behind Rome's Water Supply"),
        intro="Welcome to {channel}, where we look closely at how the past was built.",
        sentences=(
            "Professor Hale: The first aqueduct of Rome, the Aqua Appia, was built in 312 BC.",
            "Most of an aqueduct ran underground; the famous arches were only a small part.",
            "Professor Hale: The water moved by gravity alone, with no pumps at all.",
            "Engineers kept a very gentle slope, sometimes less than one metre per kilometre.",
            "By the third century AD, eleven aqueducts supplied the city of Rome.",
            "Professor Hale: The Pont du Gard in southern France is 49 metres tall.",
            "Water first flowed into settling tanks where sand and mud could sink to the bottom.",
            "From distribution tanks, lead pipes carried water to fountains, baths and rich houses.",
            "Professor Hale: Public fountains came first, so ordinary people always had water.",
            "Frontinus, the water commissioner, wrote a detailed report on the system around 97 AD.",
            "Professor Hale: He complained about people illegally tapping the pipes, which was common.",
            "Limestone deposits slowly narrowed the channels and had to be chipped away by hand.",
            "Many aqueducts fell out of use when the city was besieged in 537 AD.",
            "Professor Hale: The Aqua Virgo still feeds the Trevi Fountain today.",
        ),
        outro="Thanks for watching; next time we follow the water into the Roman baths.",
        slide_lines=("Roman aqueducts", "Aqua Appia, 312 BC", "Gravity only", "11 aqueducts"),
    ),
    Topic(
        key="gradient_descent",
        leaf=("Science & Technology", "Artificial Intelligence", "Machine Learning Tutorials"),
        youtube_category="Science & Technology",
        tags=("machine learning", "gradient descent", "neural networks", "tutorial"),
        channels=(Channel("Tensor Talks", 128_000),),
        titles=(
            "Gradient Descent Explained with One Simple Example",
            "Learning Rates: Why Training Diverges",
        ),
        intro="Hi, I am Ravi from {channel}; today we train a model with gradient descent by hand.",
        sentences=(
            "Ravi: A model has parameters, and training means finding values that make the loss small.",
            "The loss measures how far the predictions are from the true answers.",
            "Ravi: For a straight line, the mean squared error is a smooth bowl-shaped function.",
            "The gradient points uphill, so we take a small step in the opposite direction.",
            "Ravi: The size of that step is the learning rate, and we start with 0.1.",
            "If the learning rate is too large, the loss jumps around and can even blow up.",
            "If it is too small, training works but needs thousands of extra steps.",
            "Ravi: In our example the loss falls from 4.0 to 0.05 after 50 steps.",
            "Stochastic gradient descent uses a small batch of examples for each step.",
            "Ravi: A batch size of 32 is a reasonable starting point for most problems.",
            "Momentum keeps a running average of past gradients and smooths the path downhill.",
            "Ravi: Always keep a validation set to check that the model is not just memorising.",
            "When the validation loss starts rising, it is time to stop training.",
        ),
        outro="The notebook is linked below; try changing the learning rate yourself.",
        slide_lines=("Gradient descent", "w = w - lr * grad", "lr = 0.1", "batch = 32"),
    ),
)

TOPIC_BY_KEY = {t.key: t for t in TOPICS}


@dataclass(frozen=True)
class ForeignText:
    """A transcript that the language screen must reject, in the language the row claims."""

    language: str
    title: str
    sentences: tuple[str, ...]


FOREIGN: dict[str, ForeignText] = {
    "fr": ForeignText(
        "fr",
        "Recette du pain de campagne maison",
        (
            "Bonjour à tous et bienvenue dans ma cuisine.",
            "Aujourd'hui nous préparons un pain de campagne avec un levain naturel.",
            "Il faut cinq cents grammes de farine, trois cent cinquante grammes d'eau et dix grammes de sel.",
            "On mélange la farine et l'eau, puis on laisse reposer la pâte pendant trente minutes.",
            "Ensuite on ajoute le sel et on fait des rabats toutes les demi-heures.",
            "La pâte repose toute la nuit au réfrigérateur.",
            "Le lendemain, on préchauffe le four à deux cent cinquante degrés.",
            "On fait cuire le pain quarante-cinq minutes jusqu'à ce que la croûte soit bien dorée.",
            "Laissez-le refroidir au moins une heure avant de le couper.",
        ),
    ),
    "es": ForeignText(
        "es",
        "Cómo ver las lunas de Júpiter con un telescopio pequeño",
        (
            "Hola a todos y bienvenidos a una nueva noche de observación.",
            "Júpiter es el punto más brillante del cielo al este después de la puesta del sol.",
            "Con unos prismáticos se ven sus cuatro lunas más grandes en una línea.",
            "Galileo descubrió esas lunas en enero de mil seiscientos diez.",
            "Se llaman Ío, Europa, Ganímedes y Calisto.",
            "Deja que el telescopio se enfríe fuera durante treinta minutos.",
            "Empieza siempre con el ocular de menor aumento.",
            "Apunta la hora y dibuja lo que ves para comparar la próxima noche.",
        ),
    ),
    "de": ForeignText(
        "de",
        "Tomaten auf dem Balkon richtig anbauen",
        (
            "Hallo und herzlich willkommen in meinem kleinen Balkongarten.",
            "Für jede Tomatenpflanze braucht man einen Topf mit mindestens zwanzig Litern.",
            "Tomaten brauchen jeden Tag sechs bis acht Stunden direkte Sonne.",
            "Gießen Sie morgens gründlich und immer nur die Erde, nicht die Blätter.",
            "Ab der ersten Blüte wird alle zwei Wochen gedüngt.",
            "Die Seitentriebe werden regelmäßig ausgegeizt.",
            "Geerntet wird, wenn die Früchte vollständig gefärbt sind.",
        ),
    ),
}
