"""Does the monthly report open cleanly in a real office suite, with its Chinese intact?

Builds the demo county, writes last month's report as .docx, converts it with LibreOffice
(`soffice --headless --convert-to pdf`), then reads the PDF back: the report's sentences must be
in its text and a font with Chinese glyphs must be embedded (text in a font without them prints
as boxes). LibreOffice is heavy, so this is a script, not part of the test run:

    apt-get install libreoffice-writer-nogui poppler-utils fonts-wqy-microhei
    python bench/report_render.py [--keep folder]
"""
import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    for tool in ("soffice", "pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} 未安装：apt-get install libreoffice-writer-nogui poppler-utils fonts-wqy-microhei")
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == "--keep" else Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    from app import create_app, report
    from app.periods import month_before
    from models import db
    from seed.loader import load
    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3"})
    today = datetime.date.today()
    year, month = month_before(today.year, today.month)
    with app.app_context(), db.connection_context():
        load(demo=True)
        figures = report.monthly(year, month)
        words = report.lines(figures)
        docx = folder / "report.docx"
        report.write_docx(figures, str(docx))
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(docx)],
                   check=True, capture_output=True, timeout=180)
    pdf = folder / "report.pdf"
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                                  text=True).stdout.split())
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    expected = [f"直通车{year}年{month}月运行情况报告"] + ["".join(words[k].split()) for k in ("overview", "total")]
    missing = [sentence for sentence in expected if sentence not in text]
    chinese_fonts = [line.split()[0] for line in fonts.splitlines()[2:]
                     if any(name in line for name in ("WenQuanYi", "Noto", "CJK", "Hei", "Song", "Fang"))]
    print(f"{pdf}: {pdf.stat().st_size} bytes")
    print("sentences found:", len(expected) - len(missing), "of", len(expected))
    print("fonts with Chinese glyphs embedded:", ", ".join(chinese_fonts) or "none")
    if missing or not chinese_fonts:
        sys.exit("report does not render cleanly: " + "; ".join(missing))
    print("ok: the report opens in LibreOffice with its Chinese text intact")


if __name__ == "__main__":
    main()
