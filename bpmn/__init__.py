"""bpmn"""
