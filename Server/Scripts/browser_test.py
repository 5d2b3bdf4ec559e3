#!/usr/bin/env python3
"""The page in a real browser: Debian's chromium and chromium-driver, driven by selenium.

Uploads a photo, waits for the result, checks it is shown at the photo's size, presses the
download buttons and checks the files, saves a screenshot, then runs the batch tab with three
files and checks the .zip from "Download all". Keyboard: the controls are reached with Tab and
every input has a label. If the browser cannot start, this FAILS (exit 1); it never skips.

Usage: browser_test.py --base-url URL --photo PATH [--screenshot OUT.png]
"""
import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

passed = 0


def ok(message):
    global passed
    passed += 1
    print("ok", message)


def wait_for_file(folder, name, timeout=30):
    path = os.path.join(folder, name)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and not os.path.exists(path + ".crdownload") and os.path.getsize(path) > 0:
            return path
        time.sleep(0.2)
    raise AssertionError(f"download {name} did not arrive in {folder}: {os.listdir(folder)}")


def start_browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1250",
                 "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": downloads, "download.prompt_for_download": False,
        "profile.default_content_settings.popups": 0,
    })
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--photo", required=True)
    parser.add_argument("--screenshot")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="matte-browser-")
    downloads = os.path.join(work, "downloads")
    os.makedirs(downloads)
    photo = Image.open(args.photo)
    photo_path = os.path.join(work, "portrait.png")
    photo.save(photo_path)
    try:
        driver = start_browser(downloads)
    except Exception as error:
        print(f"FAILED: the browser could not start: {error}", file=sys.stderr)
        sys.exit(1)
    try:
        wait = WebDriverWait(driver, 180)
        driver.get(args.base_url.rstrip("/") + "/")
        assert "MattingKit" in driver.title, driver.title

        # Every form control has a label (a <label for>, or aria-label).
        unlabeled = driver.execute_script("""
            return [...document.querySelectorAll('input, select, button')].filter(e =>
              !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim())
            ).map(e => e.id || e.outerHTML.slice(0, 60));""")
        assert not unlabeled, f"controls without a label: {unlabeled}"
        ok("every control is labelled")

        # Keyboard: Tab reaches the preset selector and the file chooser; arrows pick a preset.
        body = driver.find_element(By.TAG_NAME, "body")
        body.click()
        reached = []
        for _ in range(40):
            # Keys go to whatever has focus, as a person's would (a file input takes no keys as a path here).
            ActionChains(driver).send_keys(Keys.TAB).perform()
            reached.append(driver.switch_to.active_element.get_attribute("id"))
        for needed in ("preset", "threshold", "erosion", "feather", "format-png", "background", "save-mask", "tab-single", "file-input"):
            assert needed in reached, f"Tab never reached #{needed}: {reached}"
        ok("Tab reaches every setting and the file chooser")

        driver.find_element(By.ID, "save-mask").click()
        driver.find_element(By.ID, "file-input").send_keys(photo_path)
        wait.until(lambda d: "px" in d.find_element(By.ID, "photo-info").text)
        info = driver.find_element(By.ID, "photo-info").text
        assert f"{photo.width} × {photo.height} px" in info, info
        ok(f"the page shows the photo's size: {info}")

        driver.find_element(By.ID, "process").click()
        wait.until(lambda d: d.find_element(By.ID, "result").is_displayed() or d.find_element(By.ID, "error").text)
        error = driver.find_element(By.ID, "error").text
        assert not error, f"the page shows an error: {error}"
        size = driver.find_element(By.ID, "result-size").text
        assert f"{photo.width} × {photo.height} px" in size, size
        natural = driver.execute_script("const i = document.getElementById('result-image'); return [i.naturalWidth, i.naturalHeight];")
        assert natural == [photo.width, photo.height], natural
        assert driver.find_element(By.ID, "progress").get_attribute("value") == "1"
        ok(f"the result is shown at {natural[0]}×{natural[1]}: {size}")

        # Before/after: move the slider half way, for the screenshot too.
        driver.execute_script("const s = document.getElementById('split'); s.value = 50; s.dispatchEvent(new Event('input'));")
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
            ok(f"screenshot saved to {args.screenshot}")
        else:
            driver.save_screenshot(os.path.join(work, "page.png"))

        driver.find_element(By.ID, "download-cutout").click()
        cutout = Image.open(wait_for_file(downloads, "portrait-cutout.png"))
        assert cutout.size == photo.size and cutout.mode == "RGBA", (cutout.size, cutout.mode)
        alpha = cutout.getchannel("A")
        assert alpha.getpixel((2, 2)) == 0 and alpha.getpixel((photo.width // 2, int(photo.height * 0.85))) == 255
        ok("the cut-out downloads: RGBA at the photo's size, transparent corner, opaque subject")
        driver.find_element(By.ID, "download-mask").click()
        mask = Image.open(wait_for_file(downloads, "portrait-mask.png"))
        assert mask.size == photo.size and mask.mode == "L", (mask.size, mask.mode)
        ok("the mask downloads: 8-bit gray")

        # Drag and drop, and paste (with the warning), as the page's events receive them.
        drop = """
            const done = arguments[arguments.length - 1];
            // The first call keeps the photo: choosing a new one revokes the page's old object URL.
            const photo = window.testPhoto ? Promise.resolve(window.testPhoto)
              : fetch(document.getElementById('before-image').src).then(r => r.blob());
            photo.then(blob => {
              window.testPhoto = blob;
              const data = new DataTransfer();
              data.items.add(new File([blob], arguments[0], {type: 'image/png'}));
              const target = arguments[1] === 'paste' ? document : document.getElementById('drop-single');
              const event = arguments[1] === 'paste'
                ? new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true})
                : new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true});
              target.dispatchEvent(event);
              done(true);
            });"""
        driver.execute_async_script(drop, "dropped.png", "drop")
        wait.until(lambda d: "dropped.png" in d.find_element(By.ID, "photo-info").text)
        assert f"{photo.width} × {photo.height} px" in driver.find_element(By.ID, "photo-info").text
        assert driver.find_element(By.ID, "paste-warning").text == ""
        ok("a dropped photo is taken, with its size")
        driver.execute_async_script(drop, "clipboard.png", "paste")
        wait.until(lambda d: "clipboard.png" in d.find_element(By.ID, "photo-info").text)
        warning = driver.find_element(By.ID, "paste-warning").text
        assert "recompressed" in warning, warning
        ok("a pasted photo is taken, with the warning: " + warning)

        # An error in words: a file that is not an image.
        text_path = os.path.join(work, "notes.png")
        with open(text_path, "w") as f:
            f.write("this is not a picture")
        driver.find_element(By.ID, "file-input").send_keys(text_path)
        wait.until(lambda d: d.find_element(By.ID, "error").text)
        assert "image" in driver.find_element(By.ID, "error").text.lower()
        ok("a file that is not an image gives an error in words: " + driver.find_element(By.ID, "error").text)

        # Batch: three files, per-file and overall progress, then Download all.
        driver.find_element(By.ID, "tab-batch").click()
        paths = []
        for i, (w, h) in enumerate([(photo.width, photo.height), (400, 300), (300, 450)]):
            path = os.path.join(work, f"batch-{i}.jpg")
            photo.convert("RGB").resize((w, h)).save(path, quality=92)
            paths.append(path)
        driver.find_element(By.ID, "batch-input").send_keys("\n".join(paths))
        rows = driver.find_elements(By.CSS_SELECTOR, "#batch-rows tr")
        assert len(rows) == 3, len(rows)
        driver.find_element(By.ID, "batch-start").click()
        wait.until(lambda d: d.find_element(By.ID, "batch-download").get_attribute("aria-disabled") == "false"
                   or d.find_element(By.ID, "batch-error").text)
        assert "3 of 3 done" in driver.find_element(By.ID, "batch-overall-label").text
        statuses = [r.find_elements(By.TAG_NAME, "td")[3].text for r in driver.find_elements(By.CSS_SELECTOR, "#batch-rows tr")]
        assert all(s.startswith("Done") for s in statuses), statuses
        ok(f"the batch of three finished: {statuses}")
        driver.find_element(By.ID, "batch-download").click()
        archive = wait_for_file(downloads, "cutouts.zip")
        with zipfile.ZipFile(archive) as z:
            assert z.testzip() is None
            names = sorted(z.namelist())
            assert names == ["batch-0-cutout.png", "batch-0-mask.png", "batch-1-cutout.png", "batch-1-mask.png",
                             "batch-2-cutout.png", "batch-2-mask.png"], names
            sizes = [Image.open(io.BytesIO(z.read(f"batch-{i}-cutout.png"))).size for i in range(3)]
            assert sizes == [(photo.width, photo.height), (400, 300), (300, 450)], sizes
        ok(f"Download all gives one zip: {names}")
    except Exception as error:
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        try:
            driver.save_screenshot(os.path.join(tempfile.gettempdir(), "matte-browser-failure.png"))
            print("page at failure: " + os.path.join(tempfile.gettempdir(), "matte-browser-failure.png"), file=sys.stderr)
        except Exception:
            pass
        print(f"browser: {passed} passed, 1 failed")
        sys.exit(1)
    finally:
        driver.quit()
        shutil.rmtree(work, ignore_errors=True)
    print(f"browser: {passed} passed, 0 failed")


if __name__ == "__main__":
    main()
