from .distill import DistillImageClassifier, TimmTeacher

__all__ = ['DistillImageClassifier', 'TimmTeacher']
