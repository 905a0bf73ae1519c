"""The browser demo: pick or upload an image (or an N-MNIST recording), pick
a task, and see the prediction, the spikes that made it and its energy.

    python projects/gradio_demo/app.py [--work-dir work_dirs/demo] [--port 7860]

The models are the demo checkpoints that ``make demo`` (and
``tools/run_demos.py --tasks detection-spiking,event``) list in
``<work-dir>/summary.json``; a task without one says the command that makes
it. Offline, on CPU: nothing is fetched at run time.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

# task -> (label, what it reads)
TASKS = {
    'classification': ('classification (Meta-SpikeFormer + SpikingClsHead)',
                       'image'),
    'detection': ('detection (Mask R-CNN, dense FPN)', 'image'),
    'segmentation': ('segmentation (Semantic FPN)', 'image'),
    'detection-spiking': ('detection, fully spiking (spiking FPN and heads)',
                          'image'),
    'event': ('event-camera classification (N-MNIST recording)', 'events'),
}
# the embedded examples: the val split of each demo data set
EXAMPLES = {
    'classification': 'data/digits_cls/images/val',
    'detection': 'data/digits_det/images/val',
    'segmentation': 'data/digits_seg/img_dir/val',
    'detection-spiking': 'data/digits_det/images/val',
    'event': 'data/event_digits/Test',
}


class Models:
    """The demo models of ``work_dir/summary.json``, each loaded once."""

    def __init__(self, work_dir):
        self.work_dir, self.loaded = work_dir, {}

    def entry(self, task):
        path = osp.join(self.work_dir, 'summary.json')
        summary = {}
        if osp.isfile(path):
            with open(path) as f:
                summary = json.load(f)
        e = summary.get(task)
        if e and 'runs' in e:  # a --seeds run: its first seed
            e = e['runs'][0]
        if not e or not osp.isfile(e.get('checkpoint', '')):
            cmd = 'make demo' if task in ('classification', 'detection',
                                          'segmentation') else \
                f'python tools/run_demos.py --tasks {task}'
            raise MissingModel(
                f'No {task} model yet: run `{cmd}` (it writes '
                f'{osp.relpath(path, ROOT)}), then run again.')
        return e

    def get(self, task):
        e = self.entry(task)
        key = (task, e['checkpoint'])
        if key not in self.loaded:
            from spikeformer_mm.apis import init_model
            self.loaded[key] = init_model(osp.join(ROOT, e['config']),
                                          e['checkpoint'])
        return self.loaded[key]


class MissingModel(Exception):
    """A task whose demo checkpoint is not there (its message names the
    command that makes it)."""


def _top(top):
    return 'predicted: ' + top[0][0] + '\n' + '\n'.join(
        f'{i}. {c}  {s:.3f}' for i, (c, s) in enumerate(top[:3], 1))


def _detections(found):
    from spikeformer_mm.apis.predict import DEMO_SCORE_THR
    return f'{len(found)} detections (score >= {DEMO_SCORE_THR})\n' + \
        '\n'.join(f'{c}  {s:.2f}  {b}' for c, s, b in found)


# how the result of each task of spikeformer_mm.tasks.TASKS reads
RESULT_TEXT = {
    'classification': _top,
    'segmentation': lambda shares: '\n'.join(
        f'{c}: {p:.1f}% of pixels' for c, p in shares),
    'detection': _detections,
}


def examples(task, n=4):
    d = osp.join(ROOT, EXAMPLES[task])
    if not osp.isdir(d):
        return []
    if TASKS[task][1] == 'events':
        files = sorted(osp.join(d, c, f) for c in sorted(os.listdir(d))
                       for f in sorted(os.listdir(osp.join(d, c)))[:1])
    else:
        files = sorted(osp.join(d, f) for f in os.listdir(d))
    return files[:n]


def run(models, task, image, recording, out_dir):
    """(result text, result picture, spikes picture, energy text) of one
    input; an error is shown as the result text."""
    from spikeformer_mm.apis.predict import energy_of_file, predict_file
    from spikeformer_mm.apis.spikes import visualize_spikes
    path = recording if TASKS[task][1] == 'events' else image
    if not path:
        what = 'an N-MNIST recording (.bin)' if TASKS[task][1] == 'events' \
            else 'an image'
        return f'Choose {what} first.', None, None, ''
    try:
        model = models.get(task)
    except MissingModel as e:
        return str(e), None, None, ''
    d = tempfile.mkdtemp(dir=out_dir)
    picture = osp.join(d, 'result.png')
    try:
        # the model's task (spikeformer_mm.tasks) picks the predictor
        model_task, result = predict_file(model, path, picture)
        text = RESULT_TEXT[model_task](result)
        if not osp.isfile(picture):  # a classifier draws no picture
            picture = None
        written = visualize_spikes(None, None, path, d, model=model)
        # an event recording: its frames beside the first stage's spikes
        spikes = next((p for p in written if p.endswith(
            ('events.gif', 'overview.png'))), written[0] if written else None)
        rep = energy_of_file(model, path)
        c = rep['conventions']
        energy = (f'{c["measured"]:.4f} mJ per input (measured convention: '
                  f'MACs of real-valued inputs, accumulates of spikes); '
                  f'{c["paper"]:.4f} mJ in the papers\' convention; mean '
                  f'firing rate {rep["mean_firing_rate"]:.3f}, T={rep["T"]}')
    except (OSError, ValueError) as e:
        return f'error: {e}', None, None, ''
    return text, picture, spikes, energy


def checked_image(**kwargs):
    """gradio's ``Image`` input whose upload, when it is not an image it
    can decode (another file type, an empty file), answers with a sentence
    naming the file, not gradio's bare "Error". (The instance's
    ``preprocess`` is wrapped: a subclass of a gradio component makes
    gradio write a ``.pyi`` stub beside this file at every start.)"""
    import gradio as gr
    image = gr.Image(**kwargs)
    preprocess = image.preprocess

    def checked(payload):
        try:
            return preprocess(payload)
        except Exception as e:  # PIL's, for any file it cannot read
            name = getattr(payload, 'orig_name', None) or \
                osp.basename(getattr(payload, 'path', '') or '') or \
                'the upload'
            raise gr.Error(f'{name} is not an image this demo can read '
                           f'({type(e).__name__}: {e}); upload a PNG or '
                           f'JPEG', title='not an image') from None

    image.preprocess = checked
    return image


def build_app(models, out_dir):
    import gradio as gr
    with gr.Blocks(title='spikeformer_mm demo') as app:
        gr.Markdown('# spikeformer_mm: Meta-SpikeFormer on the embedded '
                    'digits\nPick a task and an input, then **Run**.')
        task = gr.Dropdown([(label, t) for t, (label, _) in TASKS.items()],
                           value='classification', label='task',
                           elem_id='task')
        with gr.Row():
            image = checked_image(type='filepath', label='image',
                                  elem_id='image', sources=['upload'])
            recording = gr.File(label='N-MNIST recording (.bin), for the '
                                'event classifier', elem_id='recording',
                                type='filepath')
        imgs = [e for t in ('classification', 'detection', 'segmentation')
                for e in examples(t, 2)]
        if imgs:
            gr.Examples(imgs, inputs=image, label='embedded digits')
        events = examples('event', 3)
        if events:
            gr.Examples(events, inputs=recording,
                        label='embedded N-MNIST-style recordings')
        button = gr.Button('Run', variant='primary', elem_id='run')
        result = gr.Textbox(label='result', lines=4, elem_id='result')
        with gr.Row():
            picture = gr.Image(label='result picture', elem_id='picture')
            with gr.Column():
                # the label as text above: gradio draws an image's label
                # over its top left, where the grid's column titles are
                gr.Markdown('**spikes**: the fraction of channels firing at '
                            'each position, one row per stage, one column '
                            'per time step')
                spikes = gr.Image(show_label=False, elem_id='spikes')
        energy = gr.Textbox(label='energy', elem_id='energy')
        button.click(lambda t, i, r: run(models, t, i, r, out_dir),
                     [task, image, recording],
                     [result, picture, spikes, energy])
    return app


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'demo'),
                   help='where summary.json lists the demo checkpoints')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=7860)
    args = p.parse_args(argv)
    os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
    out_dir = tempfile.mkdtemp(prefix='spikeformer_gradio_')
    app = build_app(Models(args.work_dir), out_dir)
    print(f'spikeformer_mm demo on http://{args.host}:{args.port}',
          flush=True)
    app.launch(server_name=args.host, server_port=args.port,
               share=False, allowed_paths=[out_dir])


if __name__ == '__main__':
    main()
