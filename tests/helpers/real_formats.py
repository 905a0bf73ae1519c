"""Tiny datasets in the real on-disk layouts of ImageNet, COCO and ADE20K,
made from real photographs (scikit-learn's two bundled sample images), for
running the full recipes' configs through the tools without the real data."""
import json
import os
import os.path as osp

import numpy as np
from PIL import Image

# COCO's 80 category ids (1..90 with gaps), in the order of the names that
# mmdet's CocoDataset lists.
COCO_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19,
            20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38,
            39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
            56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75,
            76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90]


def photos():
    """The two real photographs that scikit-learn ships (427 x 640 RGB)."""
    from sklearn.datasets import load_sample_images
    return [np.asarray(im) for im in load_sample_images().images]


def views(n, size=None):
    """``n`` distinct images cut from the photographs (crops and flips)."""
    out = []
    for i in range(n):
        im = photos()[i % 2]
        h, w = im.shape[:2]
        top, left = (i // 2) * 40 % (h // 4), (i // 2) * 60 % (w // 4)
        im = im[top:top + 3 * h // 4, left:left + 3 * w // 4]
        if (i // 2) % 2:
            im = im[:, ::-1]
        img = Image.fromarray(np.ascontiguousarray(im))
        out.append(img.resize(size) if size else img)
    return out


def write_imagenet(root, n_train=4, n_val=2):
    """``train/<wnid>/*.JPEG``, ``val/*.JPEG``, ``meta/{train,val}.txt``."""
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    lines = {'train': [], 'val': []}
    for split, n in (('train', n_train), ('val', n_val)):
        for i, img in enumerate(views(n, (256, 192))):
            label = i % 3
            wnid = f'n{label:08d}'
            name = (f'{wnid}/{wnid}_{i}.JPEG' if split == 'train' else
                    f'ILSVRC2012_val_{i + 1:08d}.JPEG')
            path = osp.join(root, split, name)
            os.makedirs(osp.dirname(path), exist_ok=True)
            img.save(path, format='JPEG')
            lines[split].append(f'{name} {label}')
    for split, ls in lines.items():
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(ls) + '\n')
    return root


def _polygon(cx, cy, rx, ry, k=12):
    a = np.linspace(0, 2 * np.pi, k, endpoint=False)
    xs, ys = cx + rx * np.cos(a), cy + ry * np.sin(a)
    return [float(v) for xy in zip(xs, ys) for v in xy], xs, ys


def write_coco(root, n_train=2, n_val=2):
    """``{train,val}2017/*.jpg`` and ``annotations/instances_*2017.json``
    with polygon masks and the 80 COCO categories."""
    from mmdet.datasets import CocoDataset
    names = CocoDataset.METAINFO['classes']
    cats = [dict(id=i, name=n, supercategory='thing')
            for i, n in zip(COCO_IDS, names)]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    ann_id = 1
    for split, n in (('train2017', n_train), ('val2017', n_val)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        images, anns = [], []
        for i, img in enumerate(views(n)):
            w, h = img.size
            img.save(osp.join(root, split, f'{i:012d}.jpg'), format='JPEG')
            images.append(dict(id=i + 1, file_name=f'{i:012d}.jpg',
                               width=w, height=h))
            for j, (fx, fy, fr, cat) in enumerate(
                    ((0.35, 0.45, 0.2, 0), (0.7, 0.6, 0.15, 2))):
                seg, xs, ys = _polygon(fx * w, fy * h, fr * w, fr * h * 1.2)
                x0, y0 = float(xs.min()), float(ys.min())
                bw, bh = float(xs.max()) - x0, float(ys.max()) - y0
                # shoelace area of the polygon
                area = 0.5 * abs(np.dot(xs, np.roll(ys, 1)) -
                                 np.dot(ys, np.roll(xs, 1)))
                anns.append(dict(id=ann_id, image_id=i + 1,
                                 category_id=COCO_IDS[cat],
                                 segmentation=[seg], area=float(area),
                                 bbox=[x0, y0, bw, bh], iscrowd=0))
                ann_id += 1
        with open(osp.join(root, 'annotations',
                           f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=anns, categories=cats,
                           info={}, licenses=[]), f)
    return root


def write_ade20k(root, n_train=2, n_val=2):
    """``images/{training,validation}/*.jpg`` and
    ``annotations/{training,validation}/*.png``: label 0 is "other" (ignored
    with ``reduce_zero_label``), 1..150 the classes. The labels follow the
    photograph's brightness, so they have real image structure."""
    for split, n in (('training', n_train), ('validation', n_val)):
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for i, img in enumerate(views(n)):
            name = f'ADE_{split[:5]}_{i + 1:08d}'
            img.save(osp.join(root, 'images', split, name + '.jpg'),
                     format='JPEG')
            grey = np.asarray(img.convert('L'), dtype=np.float32)
            label = 1 + np.digitize(grey, [64, 128, 192])  # 1..4
            label[:8] = 0  # a strip of "other"
            Image.fromarray(label.astype(np.uint8)).save(
                osp.join(root, 'annotations', split, name + '.png'))
    return root
