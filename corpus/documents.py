"""PDFs shaped like PDFA documents, with their PDFA JSON sidecars.

Every string is drawn at a position this module chooses, through `Page.text`, which also records
the line and its words with normalised `[x, y, w, h]` boxes (y from the top). So the sidecar is the
exact geometry of the drawn text, not an extraction, and a page renderer or a text extractor can be
checked against it. The facts a question writer should find (totals, dates, checked boxes, table
cells) are returned so the manifest can state them.
"""

from __future__ import annotations

import io
import json
import random
from decimal import Decimal
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas

W, H = A4
MARGIN = 56.0


def money(x: Decimal) -> str:
    return f"{x:,.2f}"


class Page:
    """One page being drawn; records what PDFA's JSON would hold for it."""

    def __init__(self, c: rl_canvas.Canvas):
        self.c = c
        self.lines: dict[str, list] = {"text": [], "bbox": [], "score": [], "word_slice": []}
        self.words: dict[str, list] = {"text": [], "bbox": [], "score": [], "line_pos": []}
        self.images: list[list[float]] = []

    def text(self, x: float, top: float, s: str, font: str = "Helvetica", size: float = 10.0) -> float:
        """Draw `s` with its box's top edge `top` points below the page top; returns the line height."""
        face = pdfmetrics.getFont(font).face
        asc, desc = face.ascent * size / 1000, face.descent * size / 1000
        self.c.setFont(font, size)
        self.c.drawString(x, H - top - asc, s)
        width = pdfmetrics.stringWidth(s, font, size)
        height = asc - desc
        line_no = len(self.lines["text"])
        first = len(self.words["text"])
        pos, offset = 0, 0.0
        for word in s.split(" "):
            if word:
                ww = pdfmetrics.stringWidth(word, font, size)
                self.words["text"].append(word)
                self.words["bbox"].append(_box(x + offset, top, ww, height))
                self.words["score"].append(1.0)
                self.words["line_pos"].append([line_no, pos])
                pos += 1
                offset += ww
            offset += pdfmetrics.stringWidth(" ", font, size)
        self.lines["text"].append(s)
        self.lines["bbox"].append(_box(x, top, width, height))
        self.lines["score"].append(1.0)
        self.lines["word_slice"].append([first, len(self.words["text"])])
        return height * 1.35

    def paragraph(self, x: float, top: float, s: str, width: float, size: float = 10.0) -> float:
        for line in simpleSplit(s, "Helvetica", size, width):
            top += self.text(x, top, line, size=size)
        return top + size * 0.6

    def rule(self, x0: float, top: float, x1: float) -> None:
        self.c.line(x0, H - top, x1, H - top)

    def table(
        self, x: float, top: float, rows: list[list[str]], widths: list[float], size: float = 9.0
    ) -> float:
        """A ruled grid; the first row and the first column are headers (bold)."""
        row_h = size * 1.9
        total_w = sum(widths)
        for r, row in enumerate(rows):
            cx = x
            for col, (cell, cw) in enumerate(zip(row, widths, strict=True)):
                bold = r == 0 or col == 0
                font = "Helvetica-Bold" if bold else "Helvetica"
                tw = pdfmetrics.stringWidth(cell, font, size)
                tx = cx + 4 if col == 0 else cx + cw - 4 - tw  # numbers right-aligned
                if cell:
                    self.text(tx, top + r * row_h + size * 0.45, cell, font=font, size=size)
                cx += cw
        for r in range(len(rows) + 1):
            self.rule(x, top + r * row_h, x + total_w)
        cx = x
        for cw in [0.0, *widths]:
            cx += cw
            self.c.line(cx, H - top, cx, H - top - len(rows) * row_h)
        return top + len(rows) * row_h + 14

    def checkbox(self, x: float, top: float, label: str, checked: bool, size: float = 10.0) -> None:
        s = size * 0.9
        self.c.rect(x, H - top - s, s, s)
        if checked:  # drawn, not typed: the state lives in the picture only
            self.c.line(x + 2, H - top - 2, x + s - 2, H - top - s + 2)
            self.c.line(x + 2, H - top - s + 2, x + s - 2, H - top - 2)
        self.text(x + s + 5, top - 0.5, label, size=size)

    def image(self, x: float, top: float, w: float, h: float, fill=(0.85, 0.55, 0.2)) -> None:
        self.c.setFillColorRGB(*fill)
        self.c.rect(x, H - top - h, w, h, fill=1, stroke=0)
        self.c.setFillColorRGB(0, 0, 0)
        self.images.append(_box(x, top, w, h))

    def json(self) -> dict:
        return {
            "images_bbox": self.images,
            "images_bbox_no_text_overlap": self.images,
            "lines": self.lines,
            "words": self.words,
        }


def _box(x: float, top: float, w: float, h: float) -> list[float]:
    return [round(x / W, 6), round(top / H, 6), round(w / W, 6), round(h / H, 6)]


class Doc:
    def __init__(self, path: Path, encrypt=None):
        self.path = path
        self.c = rl_canvas.Canvas(str(path), pagesize=A4, invariant=1, encrypt=encrypt)
        self.pages: list[Page] = []

    def page(self) -> Page:
        if self.pages:
            self.c.showPage()
        p = Page(self.c)
        self.pages.append(p)
        return p

    def save(self, sidecar: Path | None) -> int:
        self.c.showPage()
        self.c.save()
        if sidecar is not None:
            sidecar.write_text(json.dumps({"pages": [p.json() for p in self.pages]}, indent=1))
        return len(self.pages)


VENDORS = (
    ("Northwind Office Supplies", "northwind-supplies.example", "14 Harbour Road, Leeds LS1 4AB"),
    ("Bluebell Catering Ltd", "bluebell-catering.example", "2 Mill Lane, Bristol BS1 5TT"),
    ("Kestrel IT Services", "kestrel-it.example", "88 Canal Street, Manchester M1 3HE"),
    ("Greenway Print & Design", "greenway-print.example", "7 Castle Court, York YO1 9RN"),
)
CUSTOMERS = (
    "Riverside Primary School",
    "Oakfield Dental Practice",
    "Harlow & Sons Architects",
    "City Youth Orchestra",
)
ITEMS = (
    ("A4 copier paper, box of 5 reams", Decimal("24.90")),
    ("Ergonomic office chair", Decimal("189.00")),
    ("Laser toner cartridge, black", Decimal("72.50")),
    ("Standing desk converter", Decimal("245.00")),
    ("Whiteboard markers, pack of 12", Decimal("9.75")),
    ("Conference lunch for 20 people", Decimal("310.00")),
    ("Laptop docking station", Decimal("129.99")),
    ("On-site IT support, per hour", Decimal("85.00")),
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def invoice(rng: random.Random, path: Path, sidecar: Path | None, encrypt=None) -> dict:
    vendor, domain, address = rng.choice(VENDORS)
    customer = rng.choice(CUSTOMERS)
    number = f"INV-2024-{rng.randint(100, 9999):04d}"
    day, month = rng.randint(1, 28), rng.randrange(len(MONTHS) - 1)  # due date stays in 2024
    date = f"{day} {MONTHS[month]} 2024"
    due = f"{day} {MONTHS[month + 1]} 2024"
    lines = []
    for name, price in rng.sample(ITEMS, rng.randint(3, 5)):
        qty = rng.randint(2, 9)
        lines.append((name, qty, price, price * qty))
    subtotal = sum((a for *_, a in lines), Decimal(0))
    vat = (subtotal * Decimal("0.20")).quantize(Decimal("0.01"))
    total = subtotal + vat
    url, email = f"https://pay.{domain}/{number.lower()}", f"billing@{domain}"

    doc = Doc(path, encrypt=encrypt)
    p = doc.page()
    p.image(MARGIN, 50, 48, 48)
    p.text(MARGIN + 60, 54, vendor, font="Helvetica-Bold", size=16)
    p.text(MARGIN + 60, 78, address, size=9)
    p.text(W - MARGIN - 90, 54, "INVOICE", font="Helvetica-Bold", size=18)
    top = 130.0
    for k, v in (
        ("Invoice number", number),
        ("Invoice date", date),
        ("Due date", due),
        ("Bill to", customer),
        ("Customer ID", f"C-{rng.randint(10000, 99999)}"),
    ):
        top += p.text(MARGIN, top, f"{k}: {v}", size=10)
    top += 14
    rows = [["Description", "Qty", "Unit price", "Amount"]]
    rows += [[n, str(q), money(pr), money(a)] for n, q, pr, a in lines]
    top = p.table(MARGIN, top, rows, [250, 50, 90, 90])
    for k, v in (("Subtotal", money(subtotal)), ("VAT (20%)", money(vat)), ("Total due (GBP)", money(total))):
        font = "Helvetica-Bold" if k.startswith("Total") else "Helvetica"
        p.text(MARGIN + 280, top, f"{k}: {v}", font=font, size=10)
        top += 16
    top += 20
    top += p.text(MARGIN, top, f"Pay online at {url}", size=9)
    top += p.text(MARGIN, top, f"Questions about this invoice? Write to {email}", size=9)
    p.text(MARGIN, top + 6, "Payment terms: 30 days. Thank you for your business.", size=9)
    pages = doc.save(sidecar)
    return {
        "pages": pages,
        "title": f"Invoice {number} from {vendor}",
        "facts": {
            "invoice_number": number,
            "invoice_date": date,
            "vendor": vendor,
            "customer": customer,
            "subtotal": money(subtotal),
            "vat": money(vat),
            "total_due": money(total),
            "url": url,
            "email": email,
            "line_items": len(lines),
        },
    }


def form(rng: random.Random, path: Path, sidecar: Path | None) -> dict:
    name = rng.choice(("Maria Lopez", "Daniel Okafor", "Hannah Berg", "Yusuf Demir", "Chloe Martin"))
    dob = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1960, 2004)}"
    plot = f"{rng.choice('ABCD')}-{rng.randint(1, 40)}"
    kinds = ("Individual", "Family", "Student", "Senior")
    chosen = rng.choice(kinds)
    options = {"Tools shed access": rng.random() < 0.5, "Compost scheme": True, "Newsletter by e-mail": False}
    doc = Doc(path)
    p = doc.page()
    p.text(MARGIN, 60, "Community Garden Membership Application", font="Helvetica-Bold", size=16)
    p.text(MARGIN, 86, "Please complete all fields in block capitals.", size=9)
    top = 120.0
    fields = (
        ("Full name", name),
        ("Date of birth", dob),
        ("Address", f"{rng.randint(1, 120)} Elm Grove, Norwich NR2 {rng.randint(1, 9)}QP"),
        ("Phone", f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"),
        ("Requested plot", plot),
    )
    for label, value in fields:
        p.text(MARGIN, top, f"{label}:", font="Helvetica-Bold", size=10)
        p.text(MARGIN + 120, top, value, size=10)
        p.rule(MARGIN + 118, top + 13, W - MARGIN)
        top += 28
    top += 10
    p.text(MARGIN, top, "Membership type", font="Helvetica-Bold", size=11)
    top += 20
    for i, k in enumerate(kinds):
        p.checkbox(MARGIN + i * 120, top, k, k == chosen)
    top += 34
    p.text(MARGIN, top, "Options", font="Helvetica-Bold", size=11)
    top += 20
    for label, on in options.items():
        p.checkbox(MARGIN, top, label, on)
        top += 20
    top += 20
    p.paragraph(
        MARGIN,
        top,
        "I agree to follow the garden rules, to keep my plot tidy, and to take part in at least two "
        "community work days each year. The annual fee is 35.00 GBP for individuals.",
        W - 2 * MARGIN,
    )
    pages = doc.save(sidecar)
    return {
        "pages": pages,
        "title": "Community Garden Membership Application",
        "facts": {
            "full_name": name,
            "date_of_birth": dob,
            "requested_plot": plot,
            "membership_type": chosen,
            "checked": sorted([chosen] + [k for k, v in options.items() if v]),
            "annual_fee": "35.00",
        },
    }


REGIONS = ("North", "South", "East", "West")


def report(rng: random.Random, path: Path, sidecar: Path | None) -> dict:
    year = rng.choice((2021, 2022, 2023))
    company = rng.choice(("Harbourlight Foods", "Tern Valley Cycles", "Amberfield Tea Company"))
    data = {r: [rng.randint(400, 2400) for _ in range(4)] for r in REGIONS}
    totals = {r: sum(v) for r, v in data.items()}
    best = max(totals, key=totals.get)
    doc = Doc(path)
    p = doc.page()
    p.text(MARGIN, 60, f"{company}: Sales Report {year}", font="Helvetica-Bold", size=17)
    top = 100.0
    p.text(MARGIN, top, "1. Summary", font="Helvetica-Bold", size=12)
    top = p.paragraph(
        MARGIN,
        top + 20,
        f"Total sales in {year} reached {sum(totals.values()):,} units across four regions. "
        f"The {best} region sold the most, with {totals[best]:,} units over the year. "
        "Figures are unit sales per quarter, taken from the order system on 10 January.",
        W - 2 * MARGIN,
    )
    p.text(MARGIN, top, "2. Sales by region and quarter", font="Helvetica-Bold", size=12)
    rows = [["Region", "Q1", "Q2", "Q3", "Q4", "Total"]]
    rows += [[r, *(f"{x:,}" for x in data[r]), f"{totals[r]:,}"] for r in REGIONS]
    top = p.table(MARGIN, top + 22, rows, [110, 70, 70, 70, 70, 80])
    p.text(MARGIN, top, "3. Outlook", font="Helvetica-Bold", size=12)
    p.paragraph(
        MARGIN,
        top + 20,
        "We expect demand to grow in the second half of next year, when the new warehouse opens. "
        "Marketing will focus on the regions with the lowest fourth-quarter sales.",
        W - 2 * MARGIN,
    )
    pages = doc.save(sidecar)
    return {
        "pages": pages,
        "title": f"{company}: Sales Report {year}",
        "facts": {
            "company": company,
            "year": year,
            "best_region": best,
            "table": {r: dict(zip(("Q1", "Q2", "Q3", "Q4"), v, strict=True)) for r, v in data.items()},
            "totals": totals,
        },
    }


HANDBOOK = (
    (
        "Working hours",
        "Core hours are 10:00 to 15:00, Monday to Friday. Outside core hours you may arrange your day "
        "freely, as long as you work 37.5 hours per week and record them in the time sheet.",
    ),
    (
        "Equipment",
        "Every employee who works from home receives a one-off equipment allowance of 450 euros. "
        "Receipts must be submitted within 60 days of purchase to the finance team.",
    ),
    (
        "Security",
        "Laptops must use full-disk encryption and lock after five minutes of inactivity. Company data "
        "may not be stored on personal devices or in private cloud accounts.",
    ),
    (
        "Meetings",
        "Team meetings take place every Tuesday at 09:30. Cameras are encouraged but optional. Meeting "
        "notes are shared in the team channel within one working day.",
    ),
    (
        "Travel",
        "Travel to the office for required on-site days is reimbursed at 0.30 euros per kilometre, up to "
        "a maximum of 120 euros per month.",
    ),
    (
        "Wellbeing",
        "Employees are entitled to two wellbeing days per year. Please take regular breaks away from the "
        "screen and talk to your manager early if your workload becomes too high.",
    ),
    (
        "Leaving the company",
        "All equipment bought with the allowance remains the property of the employee after two years "
        "of service. Earlier leavers return laptops and monitors to the office.",
    ),
)


def handbook(rng: random.Random, path: Path, sidecar: Path | None, pages: int) -> dict:
    """A multi-page policy document; `pages` > 4 makes the one Docmatix must skip."""
    org = rng.choice(("Fernhill Analytics", "Corvid Software", "Bramble Health Trust"))
    doc = Doc(path)
    sections = [HANDBOOK[i % len(HANDBOOK)] for i in range(pages * 2)]
    for n in range(pages):
        p = doc.page()
        p.text(MARGIN, 40, f"{org} - Remote Work Policy", size=8)
        p.text(W - MARGIN - 60, 40, f"Page {n + 1} of {pages}", size=8)
        top = 80.0
        if n == 0:
            p.text(MARGIN, top, "Remote Work Policy", font="Helvetica-Bold", size=18)
            top += 34
        for k, (head, body) in enumerate(sections[2 * n : 2 * n + 2]):
            p.text(MARGIN, top, f"{2 * n + k + 1}. {head}", font="Helvetica-Bold", size=12)
            top = p.paragraph(MARGIN, top + 20, body, W - 2 * MARGIN)
        p.paragraph(
            MARGIN,
            top + 10,
            f"Page {n + 1} was last reviewed in {MONTHS[(n * 3) % len(MONTHS)]} 2024 by the People team. "
            "Questions about this policy go to your line manager first.",
            W - 2 * MARGIN,
            size=8,
        )
    n_pages = doc.save(sidecar)
    return {
        "pages": n_pages,
        "title": f"{org} Remote Work Policy",
        "facts": {"organisation": org, "core_hours": "10:00 to 15:00", "equipment_allowance_eur": 450},
    }


def scanned(rng: random.Random, path: Path, sidecar: Path | None) -> dict:
    """A page that is only a picture of text (as a scan is): no text layer for any extractor."""
    from PIL import Image, ImageDraw, ImageFont

    scale = 100 / 72  # 100 dpi is plenty to read and keeps the file small
    img = Image.new("L", (round(W * scale), round(H * scale)), 250)
    d = ImageDraw.Draw(img)
    big, small = ImageFont.load_default(size=30), ImageFont.load_default(size=17)
    ref = f"DN-{rng.randint(10000, 99999)}"
    d.text((78, 90), "Delivery Note", fill=20, font=big)
    facts = {"title": "Delivery Note", "reference": ref, "delivered_to": "Riverside Primary School",
             "items": "12 boxes of copier paper", "received_by": "J. Patel"}
    lines = (
        f"Reference: {ref}",
        f"Delivered to: {facts['delivered_to']}",
        f"Items: {facts['items']}",
        f"Received by: {facts['received_by']}",
        "Signature: ______________________",
    )
    for i, line in enumerate(lines):
        d.text((78, 170 + i * 34), line, fill=30, font=small)
    pages = _scan_pdf(img, path, sidecar)
    return {"pages": pages, "title": "Delivery Note (scanned)", "facts": facts}


def encrypted(rng: random.Random, path: Path, sidecar: Path | None, user_password: str) -> dict:
    """An invoice under a password. With a user password nothing opens it; with only an owner
    password (restrictions, as many real PDFs have) any reader opens it."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    enc = StandardEncryption(user_password, ownerPassword="owner-secret", canCopy=0, canModify=0)
    return invoice(rng, path, sidecar, encrypt=enc)


def garbage(rng: random.Random, path: Path) -> dict:
    """Starts like a PDF, then noise: what a broken crawl or a mislabelled download looks like."""
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(6000))
    return {"pages": None, "title": None, "facts": {}}


# ---- Korean pages (VARCO-MLLM reads Korean documents) ----

# fonts a Debian package ships: NanumGothic (fonts-nanum) is a TrueType font reportlab can embed
# (Noto CJK ships CFF-based OpenType, which reportlab cannot)
KOREAN_FONT_FILES = ("NanumGothic.ttf", "NanumBarunGothic.ttf")
KOREAN_FONT_DIRS = ("/usr/share/fonts/truetype/nanum", "/usr/share/fonts/truetype", "/usr/local/share/fonts",
                    "/usr/share/fonts")
KOREAN_FONT = "NanumGothic"


def korean_font_path() -> Path:
    """The Korean TrueType font the sample pages are drawn with; a clear error when none is installed."""
    for folder in KOREAN_FONT_DIRS:
        for name in KOREAN_FONT_FILES:
            hits = sorted(Path(folder).rglob(name)) if Path(folder).is_dir() else []
            if hits:
                return hits[0]
    raise FileNotFoundError(
        f"no Korean font ({' or '.join(KOREAN_FONT_FILES)}) in {', '.join(KOREAN_FONT_DIRS)}: the Korean "
        "sample pages need one; install Debian's fonts-nanum (apt-get install fonts-nanum; `make install` "
        "does it when run as root)")


def _korean_font() -> str:
    from reportlab.pdfbase.ttfonts import TTFont

    if KOREAN_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(KOREAN_FONT, str(korean_font_path())))
    return KOREAN_FONT


KOREAN_VENDORS = (
    ("한빛사무용품", "서울특별시 중구 세종대로 110"),
    ("푸른들케이터링", "부산광역시 해운대구 센텀중앙로 79"),
    ("새솔정보기술", "대전광역시 유성구 대학로 99"),
)
KOREAN_CUSTOMERS = ("해오름초등학교", "미소치과의원", "늘봄건축사사무소", "청소년오케스트라")
KOREAN_ITEMS = (
    ("복사용지 A4 (5권)", 24900),
    ("사무용 의자", 189000),
    ("레이저 토너 (검정)", 72500),
    ("모니터 받침대", 45000),
    ("화이트보드 마커 12개입", 9800),
    ("회의 도시락 20인분", 310000),
)


def won(x: int) -> str:
    return f"{x:,}원"


def korean_invoice(rng: random.Random, path: Path, sidecar: Path | None) -> dict:
    """A Korean invoice (거래명세서): `키: 값` lines, an item table and totals, drawn in NanumGothic."""
    font = _korean_font()
    vendor, address = rng.choice(KOREAN_VENDORS)
    customer = rng.choice(KOREAN_CUSTOMERS)
    number = f"KR-2024-{rng.randint(100, 9999):04d}"
    month, day = rng.randint(1, 11), rng.randint(1, 28)
    date, due = f"2024년 {month}월 {day}일", f"2024년 {month + 1}월 {day}일"
    lines = []
    for name, price in rng.sample(KOREAN_ITEMS, rng.randint(3, 4)):
        qty = rng.randint(2, 9)
        lines.append((name, qty, price, price * qty))
    subtotal = sum(a for *_, a in lines)
    vat = subtotal // 10
    total = subtotal + vat
    doc = Doc(path)
    p = doc.page()
    p.text(MARGIN, 54, vendor, font=font, size=16)
    p.text(MARGIN, 78, address, font=font, size=9)
    p.text(W - MARGIN - 80, 54, "거래명세서", font=font, size=16)
    top = 130.0
    for k, v in (("명세서 번호", number), ("발행일", date), ("결제 기한", due), ("받는 곳", customer)):
        top += p.text(MARGIN, top, f"{k}: {v}", font=font, size=10)
    top += 14
    rows = [["품목", "수량", "단가", "금액"]] + [[n, str(q), won(pr), won(a)] for n, q, pr, a in lines]
    top = _korean_table(p, MARGIN, top, rows, [220, 50, 100, 110], font)
    for k, v in (("공급가액", won(subtotal)), ("부가세 (10%)", won(vat)), ("합계 금액", won(total))):
        p.text(MARGIN + 260, top, f"{k}: {v}", font=font, size=10)
        top += 16
    top += 20
    p.text(MARGIN, top, f"문의: {vendor} 고객센터로 연락해 주십시오. 감사합니다.", font=font, size=9)
    pages = doc.save(sidecar)
    return {
        "pages": pages,
        "title": f"{vendor} 거래명세서 {number}",
        "language": "ko",
        "facts": {"invoice_number": number, "invoice_date": date, "due_date": due, "vendor": vendor, "customer": customer,
                  "subtotal": won(subtotal), "vat": won(vat), "total_due": won(total), "line_items": len(lines),
                  "items": rows[1:]},  # [품목, 수량, 단가, 금액] as printed
    }


def _korean_table(p: Page, x: float, top: float, rows: list[list[str]], widths: list[float], font: str,
                  size: float = 9.0) -> float:
    """`Page.table` with a Korean font (the Helvetica table cannot draw Hangul)."""
    row_h = size * 2.0
    for r, row in enumerate(rows):
        cx = x
        for col, (cell, cw) in enumerate(zip(row, widths, strict=True)):
            tw = pdfmetrics.stringWidth(cell, font, size)
            tx = cx + 4 if col == 0 else cx + cw - 4 - tw
            p.text(tx, top + r * row_h + size * 0.45, cell, font=font, size=size)
            cx += cw
    for r in range(len(rows) + 1):
        p.rule(x, top + r * row_h, x + sum(widths))
    cx = x
    for cw in [0.0, *widths]:
        cx += cw
        p.c.line(cx, H - top, cx, H - top - len(rows) * row_h)
    return top + len(rows) * row_h + 14


KOREAN_NOTICES = (
    ("건물 정기 점검 안내", "3층 회의실", "오전 9시부터 오후 6시까지", "엘리베이터 운행이 일시 중단됩니다."),
    ("도서관 휴관 안내", "중앙도서관 열람실", "오전 10시부터 오후 4시까지", "반납은 무인 반납기를 이용해 주십시오."),
    ("주차장 도색 공사 안내", "지하 2층 주차장", "오후 1시부터 오후 8시까지", "차량을 지상 주차장으로 옮겨 주십시오."),
)


def korean_scanned(rng: random.Random, path: Path, sidecar: Path | None) -> dict:
    """A Korean notice that is only a picture (a scan): its text is read by OCR or not at all."""
    from PIL import Image, ImageDraw, ImageFont

    title, place, hours, note = rng.choice(KOREAN_NOTICES)
    day = f"2024년 {rng.randint(1, 12)}월 {rng.randint(1, 28)}일"
    ref = f"공지 제{rng.randint(100, 999)}호"
    lines = (ref, f"일시: {day} {hours}", f"장소: {place}", note, "관리사무소 드림")
    scale = 150 / 72
    img = Image.new("L", (round(W * scale), round(H * scale)), 248)
    d = ImageDraw.Draw(img)
    font_file = str(korean_font_path())
    big, small = ImageFont.truetype(font_file, 44), ImageFont.truetype(font_file, 28)
    d.text((120, 150), title, fill=15, font=big)
    for i, line in enumerate(lines):
        d.text((120, 270 + i * 56), line, fill=25, font=small)
    pages = _scan_pdf(img, path, sidecar)
    return {"pages": pages, "title": f"{title} (스캔)", "language": "ko",
            "facts": {"title": title, "reference": ref, "date": day, "when": f"{day} {hours}", "place": place},
            "printed_lines": [title, *lines]}


def _scan_pdf(img, path, sidecar) -> int:
    """A one-page PDF that is only `img` (a scan: no text layer); its page count."""
    from reportlab.lib.utils import ImageReader

    doc = Doc(path)
    p = doc.page()
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    doc.c.drawImage(ImageReader(buf), 0, 0, W, H)
    p.images.append([0.0, 0.0, 1.0, 1.0])
    return doc.save(sidecar)
