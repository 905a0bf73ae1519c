"""A screenshot of the browser demo after a run, as its README shows it:
the app on a loopback port, headless Chromium (1400 px wide) uploads an
embedded digit, runs the classifier and saves the page.

    python projects/gradio_demo/screenshot.py [--work-dir work_dirs/demo] \
        [--image data/digits_cls/images/val/0002.png] \
        [--out docs/images/gradio_demo.png]
"""
import argparse
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from spikeformer_mm.cli import refuse_overwriting_inputs, run_cli  # noqa


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'demo'))
    p.add_argument('--image', default=osp.join(
        ROOT, 'data/digits_cls/images/val/0002.png'))
    p.add_argument('--out', default=osp.join(ROOT, 'docs/images/'
                                             'gradio_demo.png'))
    p.add_argument('--width', type=int, default=1400)
    args = p.parse_args(argv)
    refuse_overwriting_inputs(args, ('image', ), ('out', ))
    if not (shutil.which('chromium') and shutil.which('chromedriver')):
        raise FileNotFoundError('chromium and chromedriver are needed '
                                '(apt-get install chromium chromium-driver)')
    os.environ['SE_OFFLINE'] = 'true'
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    app = subprocess.Popen(
        [sys.executable, osp.join(ROOT, 'projects/gradio_demo/app.py'),
         '--work-dir', args.work_dir, '--port', str(port)], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}/'
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which('chromium')
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu',
              f'--window-size={args.width},1200'):
        opts.add_argument(a)
    driver = None
    try:
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() - t0 > 120 or app.poll() is not None:
                    raise RuntimeError('the app did not start') from None
                time.sleep(0.5)
        driver = webdriver.Chrome(service=Service(shutil.which(
            'chromedriver')), options=opts)
        driver.get(url)
        wait = WebDriverWait(driver, 120)
        wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, '#image input[type=file]')).send_keys(
                osp.abspath(args.image))
        wait.until(lambda d: d.execute_script(
            "const i = document.querySelector('#image img');"
            "return i && i.complete && i.naturalWidth > 0"))
        driver.find_element(By.ID, 'run').click()
        wait.until(lambda d: d.execute_script(
            "const i = document.querySelector('#spikes img');"
            "return i && i.complete && i.naturalWidth > 0"))
        wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, '#energy textarea').get_attribute('value'))
        height = driver.execute_script(
            'return document.documentElement.scrollHeight')
        driver.set_window_size(args.width, height + 100)
        time.sleep(1)
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        from spikeformer_mm.fileio import atomic_path
        with atomic_path(args.out, suffix='.png') as tmp:
            driver.save_screenshot(tmp)
        print(f'screenshot: {args.out}')
    finally:
        if driver is not None:
            driver.quit()
        app.terminate()
        app.wait(timeout=30)


if __name__ == '__main__':
    run_cli(main)
